//! `dmconf vectors check`.

use std::path::Path;

use super::Failure;

pub(super) fn check(dir: &Path, verbose: bool) -> Result<(), Failure> {
    let results = crate::vectors::check_dir(dir).map_err(|e| Failure::Usage(e.to_string()))?;
    let (mut passed, mut failed) = (0usize, 0usize);
    for (category, outcomes) in &results {
        let cat_failed = outcomes.iter().filter(|o| o.result.is_err()).count();
        println!(
            "{category}: {} vectors, {} passed, {cat_failed} failed",
            outcomes.len(),
            outcomes.len() - cat_failed
        );
        for o in outcomes {
            match &o.result {
                Ok(()) => {
                    passed += 1;
                    if verbose {
                        println!("  ok    {category}/{}", o.id);
                    }
                }
                Err(why) => {
                    failed += 1;
                    println!("  FAIL  {category}/{} ({})", o.id, o.source.display());
                    for line in why.lines() {
                        println!("        {line}");
                    }
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        Err(Failure::Check(format!("{failed} vector(s) failed")))
    } else {
        Ok(())
    }
}
