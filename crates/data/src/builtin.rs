//! Builtin truth tables: every input combination in binary counting order, first input most
//! significant, so the half adder's rows are (0,0), (0,1), (1,0), (1,1), the post's order.

use ndarray::{Array2, s};

/// Rows of `[inputs…, targets…]` for every combination of `bits` inputs.
pub fn truth_table(bits: usize, f: fn(&[u8]) -> Vec<u8>) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = (0..1usize << bits)
        .map(|k| {
            let x: Vec<u8> = (0..bits).map(|i| ((k >> (bits - 1 - i)) & 1) as u8).collect();
            x.iter().chain(f(&x).iter()).map(|&v| f64::from(v)).collect()
        })
        .collect();
    let width = rows[0].len();
    Array2::from_shape_fn((rows.len(), width), |(i, j)| rows[i][j])
}

/// Splits `[inputs…, targets…]` rows into inputs and the last `targets` columns.
pub fn split(table: Array2<f64>, targets: usize) -> (Array2<f64>, Array2<f64>) {
    let k = table.ncols() - targets;
    (table.slice(s![.., ..k]).to_owned(), table.slice(s![.., k..]).to_owned())
}

/// (sum, carry) of two bits.
pub fn half_adder(x: &[u8]) -> Vec<u8> {
    vec![x[0] ^ x[1], x[0] & x[1]]
}

/// (sum, carry-out) of two bits and a carry-in.
pub fn full_adder(x: &[u8]) -> Vec<u8> {
    let s = x[0] + x[1] + x[2];
    vec![s & 1, s >> 1]
}

/// The exclusive or of two bits.
pub fn xor(x: &[u8]) -> Vec<u8> {
    vec![x[0] ^ x[1]]
}
