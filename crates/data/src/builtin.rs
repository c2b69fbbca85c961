//! Builtin truth tables: every input combination in binary counting order, first input most
//! significant, so the half adder's rows are (0,0), (0,1), (1,0), (1,1), the post's order.

use ndarray::{Array2, s};

/// Rows of `[inputs…, targets…]` for every combination of `bits` inputs.
pub fn truth_table(bits: usize, f: fn(&[u8]) -> Vec<u8>) -> Array2<f64> {
    let n = 1usize << bits;
    let mut x = vec![0u8; bits];
    let mut data = Vec::new();
    let mut width = bits;
    for k in 0..n {
        for (i, b) in x.iter_mut().enumerate() {
            *b = ((k >> (bits - 1 - i)) & 1) as u8;
        }
        let t = f(&x);
        width = bits + t.len();
        data.extend(x.iter().chain(&t).map(|&v| f64::from(v)));
    }
    Array2::from_shape_vec((n, width), data).expect("every row has the same width")
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

/// The and of two bits.
pub fn and(x: &[u8]) -> Vec<u8> {
    vec![x[0] & x[1]]
}

/// The or of two bits.
pub fn or(x: &[u8]) -> Vec<u8> {
    vec![x[0] | x[1]]
}

/// 1 when an odd number of the bits are set.
pub fn parity(x: &[u8]) -> Vec<u8> {
    vec![x.iter().fold(0, |p, b| p ^ b)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(bits: usize, f: fn(&[u8]) -> Vec<u8>) -> Vec<f64> {
        split(truth_table(bits, f), 1).1.into_iter().collect()
    }

    #[test]
    fn tables_are_in_binary_counting_order() {
        let t = truth_table(2, half_adder);
        assert_eq!(t.row(1).to_vec(), vec![0.0, 1.0, 1.0, 0.0]);
        assert_eq!(t.row(2).to_vec(), vec![1.0, 0.0, 1.0, 0.0]);
        assert_eq!(targets(2, and), vec![0.0, 0.0, 0.0, 1.0]);
        assert_eq!(targets(2, or), vec![0.0, 1.0, 1.0, 1.0]);
        assert_eq!(targets(2, xor), vec![0.0, 1.0, 1.0, 0.0]);
        assert_eq!(targets(3, parity), vec![0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0]);
        let full = truth_table(3, full_adder);
        assert_eq!(full.row(7).to_vec(), vec![1.0, 1.0, 1.0, 1.0, 1.0]);
        assert_eq!(full.row(3).to_vec(), vec![0.0, 1.0, 1.0, 0.0, 1.0]);
    }

    #[test]
    fn parity_of_one_bit_is_the_bit() {
        let t = truth_table(1, parity);
        assert_eq!(t, ndarray::array![[0.0, 0.0], [1.0, 1.0]]);
    }
}
