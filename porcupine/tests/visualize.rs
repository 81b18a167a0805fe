//! The timeline page's content, without a browser (`make viz-check` loads
//! one in headless Chromium).

mod common;

use common::{append, get, put};
use porcupine::models::kv::{KvInput, KvModel, KvOperation, KvOutput};
use porcupine::{
    check_operations_verbose, visualize, visualize_to_temp_file, CheckResult, LinearizationInfo, Model, VisualizeError,
};

fn page(h: &[KvOperation]) -> (CheckResult, String) {
    let (result, info) = check_operations_verbose(&KvModel, h, None);
    let mut out = Vec::new();
    visualize(&KvModel, &info, &mut out).unwrap();
    (result, String::from_utf8(out).unwrap())
}

/// The JSON between the data element's tags.
fn data(page: &str) -> &str {
    let open = r#"<script type="application/json" id="porcupine-data">"#;
    let start = page.find(open).expect("data element") + open.len();
    &page[start..start + page[start..].find("</script>").expect("end of data")]
}

#[test]
fn data_of_a_small_illegal_history() {
    // The read of "b" after the put of "a" returned cannot be linearized.
    let h = vec![put(0, "k", "a", 100, 110), get(1, "k", "b", 120, 130)];
    let (result, page) = page(&h);
    assert_eq!(result, CheckResult::Illegal);
    assert_eq!(
        data(&page),
        concat!(
            r#"{"t0":"100","states":["","a"],"partitions":[{"result":"illegal","init":0,"#,
            r#""ops":[{"client":0,"call":0,"ret":10,"desc":"put('k', 'a')"},"#,
            r#"{"client":1,"call":20,"ret":30,"desc":"get('k') -\u003e 'b'"}],"#,
            r#""lins":[{"steps":[[0,1]],"invalid":[1]}],"longest":[0,null]}]}"#
        )
    );
}

#[test]
fn data_when_nothing_can_go_first() {
    let h = vec![get(0, "k", "x", 0, 10), get(1, "k", "", 20, 30)];
    let (result, page) = page(&h);
    assert_eq!(result, CheckResult::Illegal);
    // The empty linearization, and the first read as the illegal next step
    // (the second was called after the first returned).
    assert!(data(&page).contains(r#""lins":[{"steps":[],"invalid":[0]}],"longest":[null,null]"#), "{}", data(&page));
}

#[test]
fn ok_partitions_show_their_whole_linearization() {
    let h =
        vec![append(0, "a", "1", 0, 10), append(1, "a", "2", 5, 15), get(2, "a", "21", 20, 30), get(0, "b", "", 0, 1)];
    let (result, page) = page(&h);
    assert_eq!(result, CheckResult::Ok);
    let d = data(&page);
    assert!(d.contains(r#""states":["","2","21"]"#), "{d}");
    assert!(d.contains(r#""lins":[{"steps":[[1,1],[0,2],[2,2]],"invalid":[]}],"longest":[0,0,0]"#), "{d}");
    assert!(d.contains(r#""lins":[{"steps":[[0,0]],"invalid":[]}],"longest":[0]"#), "{d}");
}

#[test]
fn page_is_self_contained_and_names_every_operation() {
    let h = vec![
        put(0, "x", "a\"b", 0, 100),
        append(1, "x", "</script><b>", 50, 200),
        get(2, "x", "a\"b", 120, 150),
        get(3, "x", "a\"b</script><b>", 210, 260),
        get(2, "x", "a\"b", 270, 300),
        append(3, "y", "é ⟨1⟩", 10, 40),
        put(1, "y", "line\nbreak", 220, 250),
    ];
    let (result, page) = page(&h);
    assert_eq!(result, CheckResult::Illegal);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<title>Porcupine</title>"));
    for text in ["Valid LP", "Invalid LP", "[ jump to first error ]"] {
        assert!(page.contains(text), "{text}");
    }
    // Every description, as the JSON holds it.
    let d = data(&page);
    for op in &h {
        let mut escaped = String::new();
        for c in KvModel.describe_operation(&op.input, &op.output).chars() {
            match c {
                '"' => escaped.push_str("\\\""),
                '\n' => escaped.push_str("\\n"),
                '<' => escaped.push_str("\\u003c"),
                '>' => escaped.push_str("\\u003e"),
                c => escaped.push(c),
            }
        }
        assert!(d.contains(&format!("\"desc\":\"{escaped}\"")), "{escaped} not in {d}");
    }
    // The data cannot close its element early.
    assert!(!d.contains('<'));
    assert_eq!(page.matches("</script>").count(), 2);
    // Nothing is fetched: no links, sources, imports or URLs besides the SVG
    // namespace name.
    for fetch in ["<link", "src=", "@import", "url(", "fetch(", "XMLHttpRequest", "<img", "<iframe"] {
        assert!(!page.contains(fetch), "{fetch}");
    }
    assert_eq!(page.matches("http").count(), page.matches("http://www.w3.org/2000/svg").count());
}

#[test]
fn temp_file_helper_writes_a_new_html_file_each_time() {
    let h = vec![put(0, "k", "a", 0, 10), get(1, "k", "b", 20, 30)];
    let (_, info) = check_operations_verbose(&KvModel, &h, None);
    let a = visualize_to_temp_file(&KvModel, &info).unwrap();
    let b = visualize_to_temp_file(&KvModel, &info).unwrap();
    assert_ne!(a, b);
    for p in [&a, &b] {
        assert!(p.starts_with(std::env::temp_dir()), "{}", p.display());
        assert_eq!(p.extension().unwrap(), "html");
        let mut expected = Vec::new();
        visualize(&KvModel, &info, &mut expected).unwrap();
        assert_eq!(std::fs::read(p).unwrap(), expected);
        std::fs::remove_file(p).unwrap();
    }
}

#[test]
fn visualize_errors_carry_the_testers_messages() {
    let e = VisualizeError::CreateTempFile(std::io::Error::other("disk full"));
    assert_eq!(e.to_string(), "failed to create temp file for visualization: disk full");
    let e = VisualizeError::Write { path: "/tmp/x.html".into(), source: std::io::Error::other("disk full") };
    assert_eq!(e.to_string(), "failed to write history visualization to /tmp/x.html: disk full");
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn a_failing_writer_is_reported() {
    struct Broken;
    impl std::io::Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("broken pipe"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let (_, info) = check_operations_verbose(&KvModel, &[get(0, "k", "b", 0, 1)], None);
    assert_eq!(visualize(&KvModel, &info, Broken).unwrap_err().to_string(), "broken pipe");
}

/// A model that rejects everything: info from `KvModel` does not replay.
struct Rejects;

impl Model for Rejects {
    type Input = KvInput;
    type Output = KvOutput;
    type State = String;
    fn init(&self) -> String {
        String::new()
    }
    fn step(&self, _: &String, _: &KvInput, _: &KvOutput) -> Option<String> {
        None
    }
    fn describe_operation(&self, i: &KvInput, o: &KvOutput) -> String {
        KvModel.describe_operation(i, o)
    }
    fn describe_state(&self, s: &String) -> String {
        s.clone()
    }
}

#[test]
#[should_panic(expected = "step 0 (put('k', 'a')) of partition 0's linearization is illegal in this model")]
fn info_from_another_model_is_refused() {
    let h = vec![put(0, "k", "a", 0, 10)];
    let (_, info): (_, LinearizationInfo<KvInput, KvOutput>) = check_operations_verbose(&KvModel, &h, None);
    let _ = visualize(&Rejects, &info, Vec::new());
}
