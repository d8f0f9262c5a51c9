//! Replays every seed of `corpus/<target>/` and every input fuzzing found under `regressions/<target>/`
//! through its target, so `cargo test` guards them without a fuzzer.

use std::path::Path;

#[test]
fn every_corpus_and_regression_input_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (name, target) in mcp_fuzz::TARGETS {
        let mut seeds = 0;
        for folder in ["corpus", "regressions"] {
            let dir = root.join(folder).join(name);
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            let mut files: Vec<_> = entries.map(|e| e.expect("a readable folder").path()).collect();
            files.sort();
            for file in files.iter().filter(|f| f.is_file()) {
                let data = std::fs::read(file).expect("a readable input");
                eprintln!("{name}: {}", file.display());
                target(&data);
                if folder == "corpus" {
                    seeds += 1;
                }
            }
        }
        assert!(seeds > 0, "fuzz/corpus/{name} has no seeds");
    }
}
