use super::*;

#[test]
fn bounds_agree() {
    for (s, us) in BOUNDS.iter().zip(BOUNDS_US) {
        assert_eq!(Duration::from_secs_f64(*s), Duration::from_micros(us));
    }
    assert_eq!(OUTCOMES.iter().enumerate().filter(|(i, o)| **o as usize != *i).count(), 0);
}

#[test]
fn renders_histograms_and_counters() {
    let metrics = Metrics::new(["lookup_stock", "adjust_stock"], None);
    metrics.observe(metrics.row("tools/call", Some("lookup_stock")), Outcome::Ok, Duration::from_micros(80));
    metrics.observe(metrics.row("tools/call", Some("lookup_stock")), Outcome::Ok, Duration::from_millis(3));
    metrics.observe(metrics.row("tools/call", Some("lookup_stock")), Outcome::Timeout, Duration::from_secs(2));
    metrics.observe(metrics.row("tools/call", Some("nope\"x")), Outcome::UnknownTool, Duration::from_micros(5));
    metrics.observe(metrics.row("frobnicate", None), Outcome::InvalidRequest, Duration::from_micros(5));
    metrics.observe(metrics.row("tools/call", Some("adjust_stock")), Outcome::Forbidden, Duration::from_micros(5));
    metrics.rejected("principal");
    metrics.refused(Outcome::Unauthenticated);
    metrics.probe(Arc::new(|| 7), None);
    let text = metrics.render();
    let ok = r#"mcp_method_name="tools/call",gen_ai_tool_name="lookup_stock""#;
    assert!(
        text.contains(&format!("mcp_server_operation_duration_seconds_bucket{{{ok},le=\"0.0001\"}} 1\n")),
        "{text}"
    );
    assert!(text.contains(&format!("mcp_server_operation_duration_seconds_bucket{{{ok},le=\"0.005\"}} 2\n")));
    assert!(text.contains(&format!("mcp_server_operation_duration_seconds_bucket{{{ok},le=\"+Inf\"}} 2\n")));
    assert!(text.contains(&format!("mcp_server_operation_duration_seconds_count{{{ok}}} 2\n")));
    assert!(text.contains(&format!("mcp_server_operation_duration_seconds_sum{{{ok}}} 0.00308\n")));
    assert!(text.contains(r#"gen_ai_tool_name="lookup_stock",error_type="timeout",le="1"} 0"#));
    assert!(text.contains(r#"gen_ai_tool_name="lookup_stock",error_type="timeout",le="2"} 1"#));
    // An unknown tool or method gets no label of its own.
    assert!(text.contains(r#"{mcp_method_name="tools/call",error_type="unknown_tool"}"#));
    assert!(text.contains(r#"{mcp_method_name="other",error_type="protocol_error"}"#));
    assert!(!text.contains("nope") && !text.contains("frobnicate"));
    assert!(text.contains("mcp_server_auth_failures_total{reason=\"unauthenticated\"} 1\n"));
    assert!(text.contains("mcp_server_auth_failures_total{reason=\"forbidden\"} 1\n"));
    assert!(text.contains("mcp_server_rate_limit_rejections_total{limit=\"principal\"} 1\n"));
    assert!(text.contains("mcp_server_refused_total{reason=\"unauthenticated\"} 1\n"));
    assert!(text.contains("mcp_server_audit_dropped_total 7\n"));
    assert!(text.contains("mcp_server_throttle_store_unavailable_total 0\n"));
    assert_eq!(metrics.tool_calls("lookup_stock"), vec![("ok", 2), ("timeout", 1)]);
}

#[test]
fn tools_added_at_run_time_get_series_up_to_the_cap() {
    let metrics = Metrics::new(["lookup_stock"], None);
    let call =
        |tool: &str| metrics.observe(metrics.row("tools/call", Some(tool)), Outcome::Ok, Duration::from_micros(5));
    call("added");
    assert!(metrics.tool_calls("added").is_empty(), "without a catalogue to ask, a name stays unlabelled");
    metrics.follow_with(|name| name != "made_up");
    call("added");
    call("added");
    call("made_up");
    assert_eq!(metrics.tool_calls("added"), vec![("ok", 2)]);
    let text = metrics.render();
    let added = r#"_count{mcp_method_name="tools/call",gen_ai_tool_name="added"} 2"#;
    assert!(text.contains(added), "{text}");
    assert!(!text.contains("made_up"), "a name the server does not serve gets no series");
    for i in 1..MAX_RUNTIME_TOOL_SERIES {
        call(&format!("t{i}"));
    }
    call("one_too_many");
    call("another");
    assert!(metrics.tool_calls("one_too_many").is_empty());
    let text = metrics.render();
    let overflow = format!(r#"_count{{mcp_method_name="tools/call",gen_ai_tool_name="{OVERFLOW_TOOL}"}} 2"#);
    assert!(text.contains(&overflow), "{text}");
    assert!(text.contains(r#"gen_ai_tool_name="t255"}"#) && !text.contains("one_too_many"));
}
