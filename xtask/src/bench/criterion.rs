//! The corridor's criterion benchmarks, read back from the estimates they wrote.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;

/// The median point estimate of every criterion benchmark written since `since`, by its id (`group/bench`).
pub(super) fn criterion_medians(dir: &Path, since: std::time::SystemTime) -> Result<BTreeMap<String, f64>> {
    let mut medians = BTreeMap::new();
    let Ok(groups) = std::fs::read_dir(dir) else { return Ok(medians) };
    for group in groups.flatten() {
        let Ok(benches) = std::fs::read_dir(group.path()) else { continue };
        for bench in benches.flatten() {
            let estimates = bench.path().join("new/estimates.json");
            if std::fs::metadata(&estimates).and_then(|m| m.modified()).map_or(true, |at| at < since) {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&estimates) else { continue };
            // {"mean":{...},"median":{"confidence_interval":{...},"point_estimate":1234.5,...},...}
            let Some(median) = text.split("\"median\"").nth(1) else { continue };
            let Some(point) = median.split("\"point_estimate\":").nth(1) else { continue };
            let number: String =
                point.chars().take_while(|c| c.is_ascii_digit() || *c == '.' || *c == 'e' || *c == '-').collect();
            if let Ok(ns) = number.parse::<f64>() {
                let id = format!("{}/{}", group.file_name().to_string_lossy(), bench.file_name().to_string_lossy());
                medians.insert(id, ns);
            }
        }
    }
    Ok(medians)
}
