//! The README's tables of components and data sources list every registered name: a component
//! added to a registry without its row fails here, not in a reader's hands.

use backprop_data::DataSpec;
use backprop_layers::ActivationSpec;
use backprop_loss::LossSpec;
use backprop_optim::{OptimizerSpec, ScheduleSpec};
use backprop_tensor::init::InitSpec;

/// The table rows (lines starting with `|`) of the README section whose heading starts with
/// `heading`, up to the next heading.
fn table_rows(readme: &str, heading: &str) -> Vec<String> {
    let mut lines = readme.lines().skip_while(|l| !l.starts_with(heading));
    assert!(lines.next().is_some(), "no README section {heading:?}");
    lines.take_while(|l| !l.starts_with('#')).filter(|l| l.starts_with('|')).map(String::from).collect()
}

#[test]
fn the_readme_tables_list_every_registered_name() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let sections: [(&str, &[&str]); 6] = [
        ("### Activations", ActivationSpec::NAMES),
        ("### Losses", LossSpec::NAMES),
        ("### Optimisers", OptimizerSpec::NAMES),
        ("### Learning-rate schedules", ScheduleSpec::NAMES),
        ("### Initialisers", InitSpec::NAMES),
        ("## Data", DataSpec::SOURCES),
    ];
    for (heading, names) in sections {
        let rows = table_rows(&readme, heading);
        for name in names {
            // A row's first cell names it, or names it beside another (`silu` (= `swish`)).
            let named =
                rows.iter().any(|r| r.split('|').nth(1).is_some_and(|cell| cell.contains(&format!("`{name}`"))));
            assert!(named, "README, {heading}: no row for `{name}`");
        }
    }
}
