//! The markdown report: medians per scenario and concurrency, the stdio and criterion figures, the targets.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::http::Run;
use super::servers::Pin;
use super::{CONCURRENCY, Era, Plan, SCENARIOS, Scenario, Server};

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub(super) fn render(
    plan: &Plan,
    results: &BTreeMap<(usize, Scenario), Vec<Run>>,
    peaks: &BTreeMap<(usize, Server), u64>,
    idle: &BTreeMap<Server, u64>,
    stdio: &BTreeMap<&'static str, Vec<(f64, f64)>>,
    criterion: &BTreeMap<String, f64>,
    pin: &Pin,
) -> String {
    let mut out = String::new();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let _ = writeln!(
        out,
        "## cargo xtask bench: {} round(s) of {} s per scenario and concurrency, medians ({}; load average {})\n",
        plan.rounds,
        plan.seconds,
        pin.describe(),
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    let rps = |c: usize, server: Server, era: Era| {
        results.get(&(c, Scenario { server, era })).map_or(f64::NAN, |runs| median(runs.iter().map(|r| r.rps)))
    };
    let _ = writeln!(
        out,
        "| c | server | protocol | req/s | p50 µs | p99 µs | CPU µs/req | peak RSS MiB | × ceiling | × rmcp |\n|---|---|---|---|---|---|---|---|---|---|"
    );
    for &c in CONCURRENCY {
        for scenario in SCENARIOS {
            let Some(runs) = results.get(&(c, *scenario)) else { continue };
            let r = median(runs.iter().map(|r| r.rps));
            let rmcp = match scenario.era {
                Era::Stateless => rps(c, Server::RmcpStateless, Era::Stateless),
                Era::Session => rps(c, Server::RmcpSession, Era::Session),
            };
            let _ = writeln!(
                out,
                "| {c} | {} | {} | {:.0} | {:.0} | {:.0} | {:.1} | {:.1} | {:.2} | {:.2} |",
                scenario.server.name(),
                if scenario.era == Era::Stateless { "2026-07-28 stateless" } else { "2025-11-25 session" },
                r,
                median(runs.iter().map(|r| r.p50_us)),
                median(runs.iter().map(|r| r.p99_us)),
                median(runs.iter().map(|r| r.cpu_us)),
                peaks.get(&(c, scenario.server)).map_or(f64::NAN, |k| *k as f64 / 1024.0),
                r / rps(c, Server::Ceiling, Era::Stateless),
                r / rmcp,
            );
        }
    }
    let _ = writeln!(
        out,
        "\nIdle RSS (after one call): {}",
        idle.iter().map(|(s, k)| format!("{} {:.1} MiB", s.name(), *k as f64 / 1024.0)).collect::<Vec<_>>().join("; ")
    );

    let _ = writeln!(out, "\n| stdio, {} pipelined calls | calls/s | CPU µs/call |\n|---|---|---|", plan.stdio_calls);
    for (name, runs) in stdio {
        let _ = writeln!(
            out,
            "| {name} | {:.0} | {:.1} |",
            median(runs.iter().map(|r| r.0)),
            median(runs.iter().map(|r| r.1))
        );
    }
    let stdio_ratio = median(stdio.get("mcp-runtime").into_iter().flatten().map(|r| r.0))
        / median(stdio.get("rmcp 3.11").into_iter().flatten().map(|r| r.0));

    if !criterion.is_empty() {
        let _ = writeln!(out, "\n| criterion (in-process) | median |\n|---|---|");
        for (id, ns) in criterion {
            let _ = writeln!(out, "| {id} | {:.2} µs |", ns / 1000.0);
        }
    }

    // The targets.
    let ceiling16 = rps(16, Server::Ceiling, Era::Stateless);
    let bare16 = rps(16, Server::Bare, Era::Stateless);
    let full16 = rps(16, Server::Full, Era::Stateless);
    let rmcp16 = rps(16, Server::RmcpStateless, Era::Stateless);
    let session16 = rps(16, Server::Bare, Era::Session);
    let corridor_full = criterion.iter().find(|(id, _)| id.starts_with("whole corridor/observed")).map(|(_, ns)| *ns);
    let idle_bare = idle.get(&Server::Bare).map_or(f64::NAN, |k| *k as f64 / 1024.0);
    let load64 = peaks.get(&(64, Server::Full)).map_or(f64::NAN, |k| *k as f64 / 1024.0);
    // (target, figure, its unit, the bound, whether the figure must reach the bound or stay under it)
    let mut targets = vec![
        ("bare corridor ≥ 0.85× ceiling (c16)", bare16 / ceiling16, "×", 0.85, true),
        ("full pipeline ≥ 0.6× ceiling (c16)", full16 / ceiling16, "×", 0.6, true),
        ("full pipeline ≥ 2× rmcp stateless (c16)", full16 / rmcp16, "×", 2.0, true),
        ("session ≥ 0.8× stateless (bare, c16)", session16 / bare16, "×", 0.8, true),
        ("stdio ≥ 2× rmcp", stdio_ratio, "×", 2.0, true),
    ];
    if let Some(ns) = corridor_full {
        targets.push(("in-process corridor, every layer ≤ 5 µs", ns / 1000.0, " µs", 5.0, false));
    }
    targets.push(("idle RSS ≤ 8 MiB (bare)", idle_bare, " MiB", 8.0, false));
    targets.push(("RSS under load ≤ 16 MiB (full, c64)", load64, " MiB", 16.0, false));
    let _ = writeln!(out, "\n| target | figure | |\n|---|---|---|");
    for (target, figure, unit, bound, at_least) in targets {
        if figure.is_nan() {
            let _ = writeln!(out, "| {target} | not run | |");
            continue;
        }
        let met = if at_least { figure >= bound } else { figure <= bound };
        let _ = writeln!(out, "| {target} | {figure:.2}{unit} | {} |", if met { "met" } else { "MISSED" });
    }
    out
}
