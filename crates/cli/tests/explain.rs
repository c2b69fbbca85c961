//! `explain`: its numbers are the library's own (bit for bit those of `gradcheck::analytic` on
//! the same one-row set), its formulas name the right case, and its renderings carry them.

use std::path::{Path, PathBuf};

use backprop_cli::app::prepare;
use backprop_cli::config;
use backprop_cli::explain::{Explanation, Format, Pick, command, explain, explain_config};
use backprop_cli::gradcheck::analytic;
use backprop_layers::activation::{Identity, Sigmoid, Softmax, Tanh};
use backprop_layers::{ActivationSpec, LayerSpec, Network};
use backprop_loss::{CrossEntropy, HalfMse, Loss};
use backprop_tensor::rng::seeded;
use ndarray::{Array2, array, s};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel)
}

/// Checks every number of `explain` for each row of `(x, t)` against `analytic` on that row
/// alone, to the last bit.
fn check_against_analytic(net: &Network<f64>, loss: &dyn Loss<f64>, x: &Array2<f64>, t: &Array2<f64>) {
    for k in 0..x.nrows() {
        let (xk, tk) = (x.slice(s![k..k + 1, ..]), t.slice(s![k..k + 1, ..]));
        let e = explain(net, loss, x.row(k), t.row(k));
        let (cost, grads) = analytic(net, loss, xk, tk);
        assert_eq!(e.cost, cost, "sample {k}: cost");
        assert_eq!(e.input, x.row(k).to_vec());
        assert_eq!(e.target, t.row(k).to_vec());
        assert_eq!(e.layers.len(), net.layers().len());
        for (l, layer) in e.layers.iter().enumerate() {
            let (gw, gb) = net.layer_grads(l, &grads);
            let gw: Vec<Vec<f64>> = gw.outer_iter().map(|r| r.to_vec()).collect();
            assert_eq!(layer.layer, l + 1, "the post's numbering");
            assert_eq!(layer.grad_weights, gw, "sample {k}, layer {}: ∂C/∂W", l + 1);
            assert_eq!(layer.grad_biases, gb.to_vec(), "sample {k}, layer {}: ∂C/∂b", l + 1);
            // With one sample, ∂C/∂b is δ itself.
            assert_eq!(layer.delta, gb.to_vec(), "sample {k}, layer {}: δ", l + 1);
            let forward = net.predict(xk);
            if l + 1 == e.layers.len() {
                assert_eq!(layer.a, forward.row(0).to_vec(), "aᴸ is the network's output");
            }
        }
    }
}

fn half_adder() -> (Network<f64>, Array2<f64>, Array2<f64>) {
    let loaded = config::load(&repo("configs/half_adder.toml"), &[]).unwrap();
    let (data, net) = prepare::<f64>(&loaded, None).unwrap();
    (net, data.inputs, data.targets)
}

fn random_net(inputs: usize, layers: &[(usize, ActivationSpec)], seed: u64) -> Network<f64> {
    let specs: Vec<LayerSpec> = layers.iter().map(|(u, a)| LayerSpec::new(*u, a.clone())).collect();
    let mut net = Network::new(inputs, &specs);
    let init = backprop_tensor::init::InitSpec::default();
    net.initialize(init.get(), init.get(), &mut seeded(seed));
    net
}

#[test]
fn half_adder_numbers_are_the_backward_pass_bit_for_bit() {
    let (net, x, t) = half_adder();
    check_against_analytic(&net, &HalfMse {}, &x, &t);
    let e = explain(&net, &HalfMse {}, x.row(3), t.row(3));
    // Not fused: ∂C/∂aᴸ = (aᴸ − t)/N with N = 1.
    let a3 = &e.layers[2].a;
    let expect: Vec<f64> = a3.iter().zip(t.row(3)).map(|(a, t)| a - t).collect();
    assert_eq!(e.dc_da.as_deref(), Some(&expect[..]));
    assert_eq!(e.loss_absorbs, None);
    assert_eq!(e.layers[2].delta_formula, "δ³ = ∂C/∂a³ ⊙ σ′(z³)");
    assert_eq!(e.layers[1].delta_formula, "δ² = (δ³ W³ᵀ) ⊙ σ′(z²)");
    assert_eq!(e.layers[0].delta_formula, "δ¹ = (δ² W²ᵀ) ⊙ σ′(z¹)");
}

#[test]
fn softmax_with_cross_entropy_is_fused_and_matches_bit_for_bit() {
    let net = random_net(3, &[(4, ActivationSpec::Tanh(Tanh {})), (3, ActivationSpec::Softmax(Softmax {}))], 11);
    let x = array![[0.5, -1.0, 2.0], [0.0, 0.25, -0.75]];
    let t = array![[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]];
    check_against_analytic(&net, &CrossEntropy::default(), &x, &t);
    let e = explain(&net, &CrossEntropy::default(), x.row(0), t.row(0));
    assert_eq!(e.dc_da, None, "the loss hands back δᴸ, not ∂C/∂aᴸ");
    assert_eq!(e.loss_absorbs.as_deref(), Some("softmax"));
    assert!(e.layers[1].delta_formula.starts_with("δ² = ∂C/∂z²"), "{}", e.layers[1].delta_formula);
    // δᴸ = softmax(zᴸ) − t for one sample.
    for ((d, a), t) in e.layers[1].delta.iter().zip(&e.layers[1].a).zip(t.row(0)) {
        assert!((d - (a - t)).abs() < 1e-15, "δ = {d}, a − t = {}", a - t);
    }
    let probabilities: f64 = e.layers[1].a.iter().sum();
    assert!((probabilities - 1.0).abs() < 1e-15);
}

#[test]
fn softmax_without_an_absorbing_loss_uses_its_jacobian() {
    let net = random_net(2, &[(3, ActivationSpec::Softmax(Softmax {})), (2, ActivationSpec::Sigmoid(Sigmoid {}))], 5);
    let x = array![[1.0, -2.0]];
    let t = array![[1.0, 0.0]];
    check_against_analytic(&net, &HalfMse {}, &x, &t);
    let e = explain(&net, &HalfMse {}, x.row(0), t.row(0));
    assert_eq!(e.layers[0].delta_formula, "δ¹ = a¹ ⊙ (g − (g·a¹)), g = δ² W²ᵀ (softmax Jacobian-vector product)");
    let out = random_net(2, &[(3, ActivationSpec::Softmax(Softmax {}))], 5);
    let e = explain(&out, &HalfMse {}, x.row(0), array![1.0, 0.0, 0.0].view());
    assert_eq!(e.layers[0].delta_formula, "δ¹ = a¹ ⊙ (g − (g·a¹)), g = ∂C/∂a¹ (softmax Jacobian-vector product)");
    assert!(e.dc_da.is_some());
}

#[test]
fn a_one_unit_identity_net_by_hand() {
    // x = 3, W = 2, b = 1, t = 5: z = 3·2 + 1 = 7, a = 7, C = ½(7 − 5)² = 2, ∂C/∂a = 7 − 5 = 2,
    // δ = 2·1 = 2, ∂C/∂W = x·δ = 6, ∂C/∂b = δ = 2. Every value is exact in binary.
    let mut net = Network::<f64>::new(1, &[LayerSpec::new(1, ActivationSpec::Identity(Identity {}))]);
    net.params_mut().copy_from_slice(&[2.0, 1.0]);
    let e = explain(&net, &HalfMse {}, array![3.0].view(), array![5.0].view());
    let expect = Explanation {
        sample: None,
        data_row: None,
        smoothed_target: None,
        label_smoothing: None,
        loss: None,
        cost: 2.0,
        input: vec![3.0],
        normalized: false,
        target_normalized: false,
        target: vec![5.0],
        dc_da: Some(vec![2.0]),
        loss_absorbs: None,
        layers: vec![backprop_cli::explain::LayerExplanation {
            layer: 1,
            activation: "identity".into(),
            z: vec![7.0],
            a: vec![7.0],
            delta: vec![2.0],
            delta_formula: "δ¹ = ∂C/∂a¹ ⊙ σ′(z¹)".into(),
            grad_weights: vec![vec![6.0]],
            grad_biases: vec![2.0],
        }],
    };
    assert_eq!(e, expect);
    let text = e.to_text();
    for line in ["z¹ = a⁰ W¹ + b¹ = [7]", "C(a¹, t) = 2", "∂C/∂a¹ = [2]", "∂C/∂b¹ = δ¹ = [2]", "      [6]"]
    {
        assert!(text.contains(line), "no `{line}` in\n{text}");
    }
}

#[test]
fn json_has_the_documented_keys_and_full_precision() {
    let (net, x, t) = half_adder();
    let e = explain(&net, &HalfMse {}, x.row(3), t.row(3));
    let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
    for key in ["cost", "input", "target", "dC_da", "layers"] {
        assert!(v.get(key).is_some(), "no `{key}` in {v}");
    }
    assert_eq!(v["cost"].as_f64(), Some(e.cost));
    assert_eq!(v["input"], serde_json::json!([1.0, 1.0]));
    let layers = v["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 3);
    for (l, layer) in layers.iter().enumerate() {
        for key in ["layer", "activation", "z", "a", "delta", "delta_formula", "grad_weights", "grad_biases"] {
            assert!(layer.get(key).is_some(), "no `{key}` in layer {l}: {layer}");
        }
        assert_eq!(layer["layer"], l + 1);
        assert_eq!(layer["activation"], "sigmoid");
        // [i][j]: input i → unit j, so one row per input of the layer.
        let gw: Vec<Vec<f64>> = serde_json::from_value(layer["grad_weights"].clone()).unwrap();
        assert_eq!(gw, e.layers[l].grad_weights, "round-trips bit for bit");
        assert_eq!(gw.len(), net.layers()[l].inputs);
        assert_eq!(gw[0].len(), net.layers()[l].units);
    }
    let fused = explain(
        &random_net(2, &[(2, ActivationSpec::Softmax(Softmax {}))], 1),
        &CrossEntropy::default(),
        x.row(0),
        t.row(0),
    );
    let v: serde_json::Value = serde_json::from_str(&fused.to_json()).unwrap();
    assert!(v["dC_da"].is_null());
    assert_eq!(v["loss_absorbs"], "softmax");
}

#[test]
fn from_a_config_by_index_or_input() {
    let loaded = config::load(&repo("configs/half_adder.toml"), &[]).unwrap();
    let by_index = explain_config(&loaded, None, &Pick::Index(3)).unwrap();
    let by_input =
        explain_config(&loaded, None, &Pick::Input { input: vec![1.0, 1.0], target: None, class: None }).unwrap();
    assert_eq!(by_index, by_input);
    assert_eq!(by_index.sample, Some(3));
    assert_eq!(by_index.loss.as_deref(), Some("half_mse"));
    assert_eq!(by_index.target, vec![0.0, 1.0]);
    let own_target = explain_config(
        &loaded,
        None,
        &Pick::Input { input: vec![0.5, 0.5], target: Some(vec![1.0, 0.0]), class: None },
    )
    .unwrap();
    assert_eq!((own_target.sample, own_target.target), (None, vec![1.0, 0.0]));

    let model = repo("tests/fixtures/seed_ann/final.json");
    let trained = explain_config(&loaded, Some(&model), &Pick::Index(3)).unwrap();
    assert!(trained.cost < 0.01, "the trained net gets (1, 1) right: {}", trained.cost);

    for (pick, message) in [
        (Pick::Index(4), "--sample 4: the data set has 4 samples (0 to 3)"),
        (
            Pick::Input { input: vec![1.0], target: None, class: None },
            "--input 1: 1 values, but the data has 2 features",
        ),
        (Pick::Input { input: vec![0.5, 1.0], target: None, class: None }, "no sample of the data has these inputs"),
        (Pick::Input { input: vec![1.0, 1.0], target: Some(vec![1.0]), class: None }, "--target 1: 1 values"),
        (Pick::Input { input: vec![f64::NAN, 1.0], target: None, class: None }, "NaN is not a finite number"),
    ] {
        let err = explain_config(&loaded, None, &pick).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains(message), "{err}");
    }
}

#[test]
fn every_format_renders_from_the_command() {
    let loaded = config::load(&repo("configs/half_adder.toml"), &[]).unwrap();
    let mut f32_loaded = loaded.clone();
    f32_loaded.config.experiment.dtype = backprop_tensor::Dtype::F32;
    for format in [Format::Text, Format::Markdown, Format::Json] {
        let mut out = Vec::new();
        command(&loaded, None, &Pick::Index(3), format, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        match format {
            Format::Text => {
                assert!(text.starts_with("Explaining sample 3: x = a⁰ = [1, 1], target t = [0, 1]"), "{text}");
                assert!(text.contains("δ³ = ∂C/∂a³ ⊙ σ′(z³)"));
                assert!(text.contains("∂C/∂W¹ = a⁰ᵀ δ¹"));
            }
            Format::Markdown => {
                assert!(text.starts_with("## Explaining sample 3"));
                assert!(text.contains("| i = 1 |"), "a row per input of ∂C/∂W");
                // Each layer's tables and formulas carry its own number and its input's.
                for (l, prev) in [("¹", "⁰"), ("²", "¹"), ("³", "²")] {
                    for want in [
                        format!("| unit j | z{l}_j | a{l}_j |"),
                        format!("| unit j | δ{l}_j = ∂C/∂b{l}_j |"),
                        format!("∂C/∂W{l} = a{prev}ᵀ δ{l} (row i: from unit i of layer"),
                    ] {
                        assert!(text.contains(&want), "no {want:?} in\n{text}");
                    }
                }
                assert!(text.contains("**Layer 3 (sigmoid)**: δ³ = ∂C/∂a³ ⊙ σ′(z³)"), "{text}");
            }
            Format::Json => {
                let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert_eq!(v["sample"], 3);
                assert_eq!(v["data_row"], 4, "the data's rows count from 1, as data errors count them");
            }
        }
    }
    // f32 configs are explained in f32.
    let e = explain_config(&f32_loaded, None, &Pick::Index(3)).unwrap();
    assert_eq!(e.cost, f64::from(e.cost as f32));
}

#[test]
fn the_tutorial_shows_the_actual_output() {
    let tutorial = std::fs::read_to_string(repo("docs/tutorial.md")).unwrap();
    let command_line = "$ backprop explain configs/half_adder.toml --sample 3\n";
    let start = tutorial.find(command_line).expect("the tutorial runs explain on sample 3") + command_line.len();
    let shown = &tutorial[start..start + tutorial[start..].find("```").unwrap()];
    let loaded = config::load(&repo("configs/half_adder.toml"), &[]).unwrap();
    let mut out = Vec::new();
    command(&loaded, None, &Pick::Index(3), Format::Text, &mut out).unwrap();
    assert_eq!(shown, String::from_utf8(out).unwrap(), "paste the new output into docs/tutorial.md");
}
