//! Loading a trained network from a `model.json` and predicting with it, as `backprop predict`
//! does (`ModelFile::predict`: the model's input scaling, its dtype, its target scaling): the
//! weights the post's own program learned (`tests/fixtures/seed_ann/final.json`) on the four
//! half-adder inputs.
//!
//! Run with `cargo run -p backprop-e2e --example predict [MODEL_JSON]`.

use std::path::PathBuf;

use backprop_cli::model_file::ModelFile;
use backprop_layers::Network;
use ndarray::array;

fn main() {
    let path = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/seed_ann/final.json"));
    let file = ModelFile::read(&path).unwrap_or_else(|e| panic!("{e}"));
    let inputs = array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let outputs = file.predict::<f64>(inputs.view()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // The network itself, for code that goes on with it (training it further, say).
    let net: Network<f64> = file.to_network();
    println!("{} ({} inputs, {} layers): (sum, carry)", path.display(), net.inputs(), net.layers().len());
    for (x, y) in inputs.outer_iter().zip(outputs.outer_iter()) {
        println!("  {x} : {y:.6}");
    }
    let half_adder = array![[0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]];
    assert_eq!(outputs.mapv(f64::round), half_adder, "the trained net adds two bits");
}
