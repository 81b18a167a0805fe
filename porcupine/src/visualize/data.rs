//! The page's data: per partition its operations, its partial
//! linearizations with the state after each step, the next steps that were
//! illegal after each one, and each operation's longest one.
//!
//! ```text
//! { "t0": "<first call, ns>", "states": ["<description>", ...],
//!   "partitions": [ { "result": "ok" | "illegal" | "unknown", "init": <state>,
//!     "ops": [ { "client": c, "call": ns, "ret": ns, "desc": "..." }, ... ],
//!     "lins": [ { "steps": [[op, state], ...], "invalid": [op, ...] }, ... ],
//!     "longest": [lin | null, ...] } ] }
//! ```
//! Times are relative to the first call; states are indices into `states`
//! (each description is stored once).

use super::json;
use crate::check::{CheckResult, LinearizationInfo, PartitionInfo};
use crate::model::Model;
use std::collections::HashMap;

/// Descriptions of states, each stored once.
#[derive(Default)]
struct StateTable {
    index: HashMap<String, usize>,
    list: Vec<String>,
}

impl StateTable {
    fn id(&mut self, description: String) -> usize {
        if let Some(&i) = self.index.get(&description) {
            return i;
        }
        self.list.push(description.clone());
        self.index.insert(description, self.list.len() - 1);
        self.list.len() - 1
    }
}

/// One partial linearization, replayed.
struct Replayed {
    /// (operation, state after it)
    steps: Vec<(usize, usize)>,
    /// Operations that could have come next and whose step is illegal.
    invalid: Vec<usize>,
}

/// The page's data as JSON.
pub(crate) fn page_data<M: Model>(model: &M, info: &LinearizationInfo<M::Input, M::Output>) -> String {
    let t0 = info.partitions().iter().flat_map(|p| p.operations().iter().map(|o| o.call)).min().unwrap_or(0);
    let mut states = StateTable::default();
    let mut parts = String::new();
    json::array(&mut parts, info.partitions().iter().enumerate(), |out, (p, part)| {
        partition(out, model, p, part, t0, &mut states);
    });
    let mut out = String::with_capacity(parts.len() + 64);
    out.push_str("{\"t0\":");
    json::string(&mut out, &t0.to_string());
    out.push_str(",\"states\":");
    json::array(&mut out, &states.list, |o, s| json::string(o, s));
    out.push_str(",\"partitions\":");
    out.push_str(&parts);
    out.push('}');
    out
}

fn partition<M: Model>(
    out: &mut String,
    model: &M,
    p: usize,
    part: &PartitionInfo<M::Input, M::Output>,
    t0: i64,
    states: &mut StateTable,
) {
    let ops = part.operations();
    out.push_str("{\"result\":");
    json::string(
        out,
        match part.result() {
            CheckResult::Ok => "ok",
            CheckResult::Illegal => "illegal",
            CheckResult::Unknown => "unknown",
        },
    );
    out.push_str(",\"init\":");
    json::int(out, states.id(model.describe_state(&model.init())));
    out.push_str(",\"ops\":");
    json::array(out, ops, |out, op| {
        out.push_str("{\"client\":");
        json::int(out, op.client_id);
        out.push_str(",\"call\":");
        json::int(out, i128::from(op.call) - i128::from(t0));
        out.push_str(",\"ret\":");
        json::int(out, i128::from(op.return_) - i128::from(t0));
        out.push_str(",\"desc\":");
        json::string(out, &model.describe_operation(&op.input, &op.output));
        out.push('}');
    });
    out.push_str(",\"lins\":");
    json::array(out, part.partial_linearizations(), |out, lin| {
        let r = replay(model, p, part, lin, states);
        out.push_str("{\"steps\":");
        json::array(out, &r.steps, |out, &(op, state)| {
            json::array(out, [op, state], json::int);
        });
        out.push_str(",\"invalid\":");
        json::array(out, &r.invalid, |out, &op| json::int(out, op));
        out.push('}');
    });
    out.push_str(",\"longest\":");
    json::array(out, part.longest(), |out, l| match l {
        Some(k) => json::int(out, k),
        None => out.push_str("null"),
    });
    out.push('}');
}

/// Runs the model along `lin`, describing each state, then tries every
/// operation that could come next (not in `lin`, called no later than the
/// earliest return among those not in `lin`).
fn replay<M: Model>(
    model: &M,
    p: usize,
    part: &PartitionInfo<M::Input, M::Output>,
    lin: &[usize],
    states: &mut StateTable,
) -> Replayed {
    let ops = part.operations();
    let mut state = model.init();
    let mut steps = Vec::with_capacity(lin.len());
    let mut done = vec![false; ops.len()];
    for (k, &i) in lin.iter().enumerate() {
        let op = &ops[i];
        state = model.step(&state, &op.input, &op.output).unwrap_or_else(|| {
            panic!(
                "porcupine: step {k} ({}) of partition {p}'s linearization is illegal in this model: \
                 the info comes from another model",
                model.describe_operation(&op.input, &op.output)
            )
        });
        done[i] = true;
        steps.push((i, states.id(model.describe_state(&state))));
    }
    let first_return = ops.iter().zip(&done).filter(|(_, d)| !**d).map(|(o, _)| o.return_).min();
    let invalid = match first_return {
        None => Vec::new(),
        Some(r) => (0..ops.len())
            .filter(|&i| !done[i] && ops[i].call <= r)
            .filter(|&i| model.step(&state, &ops[i].input, &ops[i].output).is_none())
            .collect(),
    };
    Replayed { steps, invalid }
}
