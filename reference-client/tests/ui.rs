//! UI alert policy (`dm_client::ui`): every alert code × policy, options parsing, DR,
//! MAXLEN / IT validation, scripts, and a Sequence through `dm_tree::Processor`.
//! "facts §N" cites the project's protocol fact sheet.
#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;
use std::sync::Arc;

use dm_client::ui::{
    validate_text, AnswerSource, DefaultResponse, EchoType, Fallback, InputError, InputType,
    Response, Script, ScriptedAnswer, UiAlert, UiError, UiEvent, UiHooks, UiInput, UiKind,
    UiOptions, UiPolicy, Waited,
};
use dm_protocol::codec::{decode, DecodeOptions};
use dm_protocol::codes::{AlertCode, StatusCode as S};
use dm_protocol::model::{Alert, Command, Data, Item};
use dm_tree::{
    AlertAnswer, CommandHooks, CommandOutcome, ManualClock, NewNode, Principal, Processor, Tree,
    TreeConfig,
};
use rstest::rstest;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn tree() -> Tree {
    Tree::with_clock(
        TreeConfig::default(),
        Arc::new(ManualClock::at(994_869_497)),
    )
}

fn item(data: Option<&str>) -> Item {
    Item {
        data: data.map(|d| Data::Text(d.to_owned())),
        ..Item::default()
    }
}

/// An Alert with code `code` and items `[options, text, choices…]`.
fn alert(code: u16, options: &str, text: &str, choices: &[&str]) -> Alert {
    let mut items = vec![item(Some(options)), item(Some(text))];
    items.extend(choices.iter().map(|c| item(Some(c))));
    Alert {
        cmd_id: "7".into(),
        code: Some(AlertCode::from_u16(code)),
        items,
        ..Alert::default()
    }
}

fn ui_alert(kind: UiKind, options: &str) -> Alert {
    alert(
        kind.code().as_u16(),
        options,
        "Question?",
        &["red", "green", "blue"],
    )
}

fn answer(policy: UiPolicy, a: &Alert) -> (AlertAnswer, UiEvent) {
    let mut h = UiHooks::new(policy);
    let ans = h.alert(&mut tree(), a);
    let ev = h.take_events().pop().unwrap();
    (ans, ev)
}

fn texts(results: &[Item]) -> Vec<String> {
    results
        .iter()
        .map(|i| match &i.data {
            Some(Data::Text(t)) => t.clone(),
            other => panic!("not text: {other:?}"),
        })
        .collect()
}

fn kind(code: u16) -> UiKind {
    UiKind::from_code(AlertCode::from_u16(code)).unwrap()
}

fn script(answers: &[(UiKind, Response)], fallback: Fallback) -> UiPolicy {
    UiPolicy::Scripted {
        fallback,
        answers: answers
            .iter()
            .map(|(k, r)| ScriptedAnswer {
                alert: *k,
                response: r.clone(),
            })
            .collect(),
    }
}

fn accept() -> UiPolicy {
    UiPolicy::Accept { text: None }
}

// ---------------------------------------------------------------------------------------------
// Alert code × policy
// ---------------------------------------------------------------------------------------------

/// facts §3.3 (200 yes / 304 no / 214 cancel), §3.4 (406 without UI, MAXDT → 408), §3.1.
#[rstest]
#[case::accept_display(accept(), 1100, 200)]
#[case::accept_confirm(accept(), 1101, 200)]
#[case::accept_text(accept(), 1102, 200)]
#[case::accept_single(accept(), 1103, 200)]
#[case::accept_multiple(accept(), 1104, 200)]
#[case::reject_display(UiPolicy::Reject, 1100, 200)]
#[case::reject_confirm(UiPolicy::Reject, 1101, 304)]
#[case::reject_text(UiPolicy::Reject, 1102, 214)]
#[case::reject_single(UiPolicy::Reject, 1103, 214)]
#[case::reject_multiple(UiPolicy::Reject, 1104, 214)]
#[case::timeout_display(UiPolicy::Timeout, 1100, 200)]
#[case::timeout_confirm(UiPolicy::Timeout, 1101, 408)]
#[case::timeout_text(UiPolicy::Timeout, 1102, 408)]
#[case::timeout_single(UiPolicy::Timeout, 1103, 408)]
#[case::timeout_multiple(UiPolicy::Timeout, 1104, 408)]
#[case::headless_display(UiPolicy::Headless, 1100, 406)]
#[case::headless_confirm(UiPolicy::Headless, 1101, 406)]
#[case::headless_text(UiPolicy::Headless, 1102, 406)]
#[case::headless_single(UiPolicy::Headless, 1103, 406)]
#[case::headless_multiple(UiPolicy::Headless, 1104, 406)]
fn code_by_policy(#[case] policy: UiPolicy, #[case] code: u16, #[case] want: u16) {
    let (ans, ev) = answer(policy, &ui_alert(kind(code), ""));
    assert_eq!(ans.code.as_u16(), want);
    assert_eq!(ev.status.as_u16(), want);
    // facts §3.3: only a 200 to 1102–1104 carries the user's input.
    let carries_input = want == 200 && code >= 1102;
    assert_eq!(!ans.results.is_empty(), carries_input, "{:?}", ans.results);
}

/// Scripted cancel / timeout / status for every kind (facts §3.4: cancel → 214; §3.1 416
/// "UI alert can't be displayed").
#[rstest]
fn scripted_responses_for_every_kind(
    #[values(1100, 1101, 1102, 1103, 1104)] code: u16,
    #[values(
        (Response::Cancel, 214),
        (Response::Status(416), 416),
        (Response::Reject, 0),
        (Response::Timeout, 0)
    )]
    r: (Response, u16),
) {
    let k = kind(code);
    let (response, mut want) = r;
    if want == 0 {
        // Same as the policy of the same name.
        let policy = if response == Response::Reject {
            UiPolicy::Reject
        } else {
            UiPolicy::Timeout
        };
        want = answer(policy, &ui_alert(k, "")).0.code.as_u16();
    }
    let (ans, ev) = answer(
        script(&[(k, response)], Fallback::Headless),
        &ui_alert(k, ""),
    );
    assert_eq!(ans.code.as_u16(), want);
    assert_eq!(ev.source, AnswerSource::Script(0));
}

/// facts §3.3: 1102 → Item/Data = text; 1103 → Item Data = 1-based index; 1104 → one Item per
/// selected index.
#[rstest]
#[case::text_dr(1102, "DR=hello", vec!["hello"])]
#[case::text_no_dr(1102, "", vec![""])]
#[case::single_dr(1103, "DR=2", vec!["2"])]
#[case::single_first(1103, "", vec!["1"])]
#[case::multiple_dr(1104, "DR=3-1", vec!["3", "1"])]
#[case::multiple_first(1104, "", vec!["1"])]
fn accept_takes_dr_or_first(#[case] code: u16, #[case] opts: &str, #[case] want: Vec<&str>) {
    let (ans, _) = answer(accept(), &ui_alert(kind(code), opts));
    assert_eq!(ans.code, S::Ok);
    assert_eq!(texts(&ans.results), want);
    // The Items carry only Data: no Source/Target/Meta.
    assert!(ans
        .results
        .iter()
        .all(|i| i.source.is_none() && i.target.is_none() && i.meta.is_none()));
}

#[test]
fn accept_with_configured_text_types_it_into_1102_only() {
    // facts §3.3: 1102 reply Item/Data = text.
    let policy = UiPolicy::Accept {
        text: Some("typed".into()),
    };
    let (ans, _) = answer(policy.clone(), &ui_alert(UiKind::TextInput, "DR=dflt"));
    assert_eq!(texts(&ans.results), ["typed"]);
    let (ans, _) = answer(policy, &ui_alert(UiKind::SingleChoice, ""));
    assert_eq!(texts(&ans.results), ["1"]);
}

#[test]
fn accept_with_configured_text_breaking_it_is_500() {
    // facts §3.4 IT=N; our choice: an answer that breaks IT/MAXLEN is refused with 500.
    let policy = UiPolicy::Accept {
        text: Some("abc".into()),
    };
    let (ans, ev) = answer(policy, &ui_alert(UiKind::TextInput, "IT=N"));
    assert_eq!(ans.code, S::CommandFailed);
    assert!(ans.results.is_empty());
    assert!(ev.note.unwrap().contains("IT=N"));
}

// ---------------------------------------------------------------------------------------------
// Items
// ---------------------------------------------------------------------------------------------

/// facts §3.4: ≥ 2 items; §3.1 / §3.2: 412 for bad Alert items.
#[rstest]
fn fewer_than_two_items_is_412(
    #[values(1100, 1101, 1102, 1103, 1104)] code: u16,
    #[values(0, 1)] n: usize,
    #[values(accept(), UiPolicy::Reject, UiPolicy::Timeout)] policy: UiPolicy,
) {
    let mut a = alert(code, "", "text", &[]);
    a.items.truncate(n);
    let (ans, ev) = answer(policy, &a);
    assert_eq!(ans.code, S::IncompleteCommand);
    assert_eq!(ev.source, AnswerSource::Malformed);
    assert_eq!(ev.timing.waited, Waited::NotShown);
}

#[rstest]
fn headless_is_406_even_for_malformed_alerts(#[values(0, 1)] n: usize) {
    // facts §3.4: a client without UI support answers 406; it does not look at the items.
    let mut a = alert(1101, "MINDT=zz", "text", &[]);
    a.items.truncate(n);
    assert_eq!(
        answer(UiPolicy::Headless, &a).0.code,
        S::OptionalFeatureNotSupported
    );
}

#[test]
fn empty_options_item_is_fine() {
    // facts §3.4: Item 1 may be an empty `<Item/>`.
    let mut a = alert(1101, "", "Continue?", &[]);
    a.items[0] = Item::default();
    let (ans, ev) = answer(accept(), &a);
    assert_eq!(ans.code, S::Ok);
    assert_eq!(ev.alert.unwrap().text, "Continue?");
}

#[rstest]
#[case::single(1103)]
#[case::multiple(1104)]
fn choice_alert_without_choices_is_412(#[case] code: u16) {
    // facts §3.4: Items 3.. are the choices; §3.2: 412 for bad Alert items.
    let (ans, ev) = answer(accept(), &alert(code, "", "Pick", &[]));
    assert_eq!(ans.code, S::IncompleteCommand);
    assert!(ev.note.unwrap().contains("at least one choice"));
}

#[test]
fn items_keep_their_order() {
    // facts §3.4: Item 1 options, Item 2 text, Items 3.. choices, order kept.
    let a = UiAlert::parse(
        UiKind::MultipleChoice,
        &alert(1104, "MINDT=3", "Title", &["c1", "c2", "c3"]).items,
    )
    .unwrap();
    assert_eq!(a.text, "Title");
    assert_eq!(a.choices, ["c1", "c2", "c3"]);
    assert_eq!(a.options.min_dt, Some(3));
}

#[test]
fn extra_items_on_non_choice_alerts_are_ignored_and_noted() {
    // facts §3.4: only 1103/1104 have choices.
    let a = UiAlert::parse(UiKind::Confirm, &alert(1101, "", "Sure?", &["x"]).items).unwrap();
    assert!(a.choices.is_empty());
    assert!(a.notes[0].contains("ignored"));
}

#[test]
fn markup_item_is_412() {
    // facts §3.2: 412 for bad Alert items.
    let mut a = alert(1100, "", "Hi", &[]);
    a.items[1].data = Some(Data::Markup(Default::default()));
    assert_eq!(
        UiAlert::parse(UiKind::Display, &a.items),
        Err(UiError::NotText { index: 2 })
    );
}

// ---------------------------------------------------------------------------------------------
// Options (facts §3.4)
// ---------------------------------------------------------------------------------------------

#[rstest]
#[case::empty("", UiOptions::default())]
#[case::all(
    "MINDT=5&MAXDT=30&DR=abc&MAXLEN=8&IT=N&ET=P",
    UiOptions {
        min_dt: Some(5),
        max_dt: Some(30),
        default_response: Some("abc".into()),
        max_len: Some(8),
        input_type: Some(InputType::Numeric),
        echo_type: Some(EchoType::Password),
        ..UiOptions::default()
    }
)]
#[case::percent_decoding(
    "DR=Hello%20W%C3%B6rld%26%3D",
    UiOptions { default_response: Some("Hello Wörld&=".into()), ..UiOptions::default() }
)]
#[case::plus_stays_plus(
    "DR=+33%2B1",
    UiOptions { default_response: Some("+33+1".into()), ..UiOptions::default() }
)]
#[case::encoded_name(
    "MIN%44T=4",
    UiOptions { min_dt: Some(4), ..UiOptions::default() }
)]
#[case::unknown_ignored(
    "FOO=bar&MINDT=2&BAZ",
    UiOptions { min_dt: Some(2), ignored: vec!["FOO".into(), "BAZ".into()], ..UiOptions::default() }
)]
#[case::unknown_with_bad_value_ignored(
    "X=%zz&MAXDT=9",
    UiOptions { max_dt: Some(9), ignored: vec!["X".into()], ..UiOptions::default() }
)]
#[case::names_are_case_sensitive(
    "mindt=5",
    UiOptions { ignored: vec!["mindt".into()], ..UiOptions::default() }
)]
#[case::empty_segments_and_whitespace(
    " &&MINDT=1&& ",
    UiOptions { min_dt: Some(1), ..UiOptions::default() }
)]
#[case::empty_dr(
    "DR=",
    UiOptions { default_response: Some(String::new()), ..UiOptions::default() }
)]
#[case::repeated_last_wins(
    "MINDT=1&MINDT=2",
    UiOptions { min_dt: Some(2), repeated: vec!["MINDT".into()], ..UiOptions::default() }
)]
fn options_parse(#[case] s: &str, #[case] want: UiOptions) {
    assert_eq!(UiOptions::parse(s).unwrap(), want);
}

#[rstest]
#[case::not_a_number("MINDT=abc", "BadNumber")]
#[case::zero("MAXDT=0", "BadNumber")]
#[case::negative("MAXLEN=-3", "BadNumber")]
#[case::signed("MINDT=+3", "BadNumber")]
#[case::fraction("MINDT=1.5", "BadNumber")]
#[case::empty_number("MAXLEN=", "BadNumber")]
#[case::overflow("MAXDT=99999999999", "BadNumber")]
#[case::no_value("MINDT", "MissingValue")]
#[case::bad_it("IT=X", "BadInputType")]
#[case::lowercase_it("IT=n", "BadInputType")]
#[case::bad_et("ET=Q", "BadEchoType")]
#[case::bad_escape("DR=%zz", "BadEscape")]
#[case::truncated_escape("DR=ab%4", "BadEscape")]
#[case::not_utf8("DR=%E9", "NotUtf8")]
fn options_refused(#[case] s: &str, #[case] variant: &str) {
    let e = UiOptions::parse(s).unwrap_err();
    assert!(format!("{e:?}").starts_with(variant), "{e:?}");
}

#[rstest]
#[case::bad_number(1101, "MINDT=x")]
#[case::bad_it(1102, "IT=Z")]
#[case::bad_escape(1100, "DR=%G1")]
fn bad_options_answer_412(#[case] code: u16, #[case] opts: &str) {
    // facts §3.2: 412 for bad Alert items (our reading for a bad options string).
    let (ans, ev) = answer(accept(), &ui_alert(kind(code), opts));
    assert_eq!(ans.code, S::IncompleteCommand);
    assert!(ev.note.unwrap().starts_with("bad options string"));
    assert_eq!(ev.raw_options.as_deref(), Some(opts));
}

#[test]
fn input_options_on_other_alerts_are_noted() {
    // facts §3.4: MAXLEN, IT, ET are 1102 only.
    let a = UiAlert::parse(
        UiKind::Confirm,
        &ui_alert(UiKind::Confirm, "MAXLEN=3&IT=N&ET=P").items,
    )
    .unwrap();
    assert_eq!(
        a.notes.iter().filter(|n| n.contains("1102 only")).count(),
        3
    );
}

// ---------------------------------------------------------------------------------------------
// DR for each code (facts §3.4)
// ---------------------------------------------------------------------------------------------

#[rstest]
#[case::display_ignored(1100, "DR=whatever", None)]
#[case::confirm_reject(1101, "DR=0", Some(DefaultResponse::Confirm(false)))]
#[case::confirm_accept(1101, "DR=1", Some(DefaultResponse::Confirm(true)))]
#[case::text(1102, "DR=a%20b", Some(DefaultResponse::Text("a b".into())))]
#[case::text_empty(1102, "DR=", Some(DefaultResponse::Text(String::new())))]
#[case::single(1103, "DR=3", Some(DefaultResponse::Choices(vec![3])))]
#[case::multiple(1104, "DR=2-3", Some(DefaultResponse::Choices(vec![2, 3])))]
#[case::multiple_one(1104, "DR=1", Some(DefaultResponse::Choices(vec![1])))]
fn dr_interpreted(#[case] code: u16, #[case] opts: &str, #[case] want: Option<DefaultResponse>) {
    let a = UiAlert::parse(kind(code), &ui_alert(kind(code), opts).items).unwrap();
    assert_eq!(a.default, want);
}

#[rstest]
#[case::confirm_two(1101, "DR=2")]
#[case::confirm_word(1101, "DR=yes")]
#[case::confirm_empty(1101, "DR=")]
#[case::text_too_long(1102, "MAXLEN=2&DR=abc")]
#[case::text_not_numeric(1102, "IT=N&DR=12a")]
#[case::single_out_of_range(1103, "DR=4")]
#[case::single_zero(1103, "DR=0")]
#[case::single_two(1103, "DR=1-2")]
#[case::multiple_repeat(1104, "DR=1-1")]
#[case::multiple_hole(1104, "DR=1--2")]
#[case::multiple_out_of_range(1104, "DR=2-9")]
#[case::multiple_empty(1104, "DR=")]
fn dr_not_fitting_is_412(#[case] code: u16, #[case] opts: &str) {
    // facts §3.4 DR forms; §3.2: 412 for bad Alert items.
    let (ans, ev) = answer(accept(), &ui_alert(kind(code), opts));
    assert_eq!(ans.code, S::IncompleteCommand, "{:?}", ev.note);
    assert!(ev.note.unwrap().contains("DR="));
}

#[rstest]
#[case::accept_dr0(accept(), "DR=0", 200)]
#[case::accept_dr1(accept(), "DR=1", 200)]
#[case::reject_dr1(UiPolicy::Reject, "DR=1", 304)]
#[case::reject_dr0(UiPolicy::Reject, "DR=0", 304)]
fn confirm_dr_only_highlights(#[case] policy: UiPolicy, #[case] opts: &str, #[case] want: u16) {
    // facts §3.4: DR for 1101 says which button is highlighted; the user still decides
    // (facts §3.3: 200 yes, 304 no).
    let (ans, ev) = answer(policy, &ui_alert(UiKind::Confirm, opts));
    assert_eq!(ans.code.as_u16(), want);
    assert!(ev.alert.unwrap().default.is_some());
}

// ---------------------------------------------------------------------------------------------
// MAXLEN / IT validation (facts §3.4)
// ---------------------------------------------------------------------------------------------

#[rstest]
#[case::alnum_anything("", "Hello, world! 42", true)]
#[case::maxlen_exact("MAXLEN=5", "abcde", true)]
#[case::maxlen_over("MAXLEN=5", "abcdef", false)]
#[case::maxlen_counts_chars("MAXLEN=3", "äöü", true)]
#[case::empty_always_ok("IT=D&MAXLEN=1", "", true)]
#[case::numeric_int("IT=N", "12345", true)]
#[case::numeric_signed_decimal("IT=N", "-12.50", true)]
#[case::numeric_leading_point("IT=N", ".5", true)]
#[case::numeric_letters("IT=N", "12a", false)]
#[case::numeric_two_points("IT=N", "1.2.3", false)]
#[case::numeric_sign_only("IT=N", "-", false)]
#[case::date_ok("IT=D", "29022024", true)]
#[case::date_not_leap("IT=D", "29022023", false)]
#[case::date_bad_month("IT=D", "01132024", false)]
#[case::date_day_zero("IT=D", "00012024", false)]
#[case::date_short("IT=D", "1012024", false)]
#[case::date_iso("IT=D", "2024-01-01", false)]
#[case::time_ok("IT=T", "235959", true)]
#[case::time_hour("IT=T", "240000", false)]
#[case::time_minute("IT=T", "126000", false)]
#[case::time_colons("IT=T", "12:00:00", false)]
#[case::phone_ok("IT=P", "+4930p123w45s6", true)]
#[case::phone_dash("IT=P", "030-1234", false)]
#[case::phone_space("IT=P", "030 1234", false)]
#[case::ipv4_ok("IT=I", "192.168.1.254", true)]
#[case::ipv4_padded("IT=I", "010.000.000.001", true)]
#[case::ipv4_256("IT=I", "1.2.3.256", false)]
#[case::ipv4_three_parts("IT=I", "1.2.3", false)]
#[case::ipv4_empty_part("IT=I", "1..2.3", false)]
#[case::password_no_format("ET=P&MAXLEN=4", "s3cr", true)]
fn input_validation(#[case] opts: &str, #[case] text: &str, #[case] ok: bool) {
    let o = UiOptions::parse(opts).unwrap();
    assert_eq!(
        validate_text(text, &o).is_ok(),
        ok,
        "{:?}",
        validate_text(text, &o)
    );
}

#[test]
fn too_long_error_names_maxlen() {
    let o = UiOptions::parse("MAXLEN=2").unwrap();
    assert_eq!(
        validate_text("abc", &o),
        Err(InputError::TooLong { len: 3, max: 2 })
    );
}

// ---------------------------------------------------------------------------------------------
// Scripts
// ---------------------------------------------------------------------------------------------

#[test]
fn script_answers_are_consumed_in_order() {
    // facts §3.4: several UI alerts may come in one package; each gets its own answer.
    let mut h = UiHooks::new(script(
        &[
            (UiKind::Confirm, Response::Accept),
            (UiKind::TextInput, Response::Text("0301234".into())),
            (UiKind::MultipleChoice, Response::Choices(vec![3, 1])),
            (UiKind::Confirm, Response::Reject),
        ],
        Fallback::Reject,
    ));
    let mut t = tree();
    let a1 = h.alert(&mut t, &ui_alert(UiKind::Confirm, ""));
    let a2 = h.alert(&mut t, &ui_alert(UiKind::TextInput, "IT=P&MAXLEN=7"));
    let a3 = h.alert(&mut t, &ui_alert(UiKind::MultipleChoice, ""));
    let a4 = h.alert(&mut t, &ui_alert(UiKind::Confirm, ""));
    assert_eq!(
        [a1.code, a2.code, a3.code, a4.code],
        [S::Ok, S::Ok, S::Ok, S::NotModified]
    );
    assert_eq!(texts(&a2.results), ["0301234"]);
    // facts §3.3: 1104 one Item per selected index, any order: sent in scripted order.
    assert_eq!(texts(&a3.results), ["3", "1"]);
    let sources: Vec<_> = h.events().iter().map(|e| e.source.clone()).collect();
    assert_eq!(
        sources,
        (0..4).map(AnswerSource::Script).collect::<Vec<_>>()
    );
    assert!(matches!(h.policy(), UiPolicy::Scripted { answers, .. } if answers.is_empty()));
}

#[test]
fn script_mismatch_falls_back_and_keeps_the_answer_queued() {
    // facts §3.3 codes; our choice: a mismatching answer stays at the head.
    let mut h = UiHooks::new(script(
        &[(UiKind::Confirm, Response::Accept)],
        Fallback::Reject,
    ));
    let mut t = tree();
    let a1 = h.alert(&mut t, &ui_alert(UiKind::TextInput, ""));
    assert_eq!(a1.code, S::OperationCancelled); // reject fallback for 1102 → 214
    let ev = &h.events()[0];
    assert_eq!(ev.source, AnswerSource::Fallback(Fallback::Reject));
    let note = ev.note.as_deref().unwrap();
    assert!(note.contains("expects a 1101 (confirm) alert"), "{note}");
    let a2 = h.alert(&mut t, &ui_alert(UiKind::Confirm, ""));
    assert_eq!(a2.code, S::Ok);
    assert_eq!(h.events()[1].source, AnswerSource::Script(0));
}

#[rstest]
#[case::accept(Fallback::Accept, 200)]
#[case::reject(Fallback::Reject, 304)]
#[case::cancel(Fallback::Cancel, 214)]
#[case::timeout(Fallback::Timeout, 408)]
#[case::headless(Fallback::Headless, 406)]
fn exhausted_script_uses_fallback(#[case] fb: Fallback, #[case] want: u16) {
    // facts §3.3 (200/304/214), §3.4 (408, 406).
    let (ans, ev) = answer(script(&[], fb), &ui_alert(UiKind::Confirm, ""));
    assert_eq!(ans.code.as_u16(), want);
    assert_eq!(ev.source, AnswerSource::Fallback(fb));
    assert!(ev.note.unwrap().contains("script exhausted"));
}

#[rstest]
#[case::too_long(UiKind::TextInput, "MAXLEN=3", Response::Text("abcd".into()))]
#[case::not_a_date(UiKind::TextInput, "IT=D", Response::Text("31022024".into()))]
#[case::not_ipv4(UiKind::TextInput, "IT=I", Response::Text("1.2.3.4.5".into()))]
#[case::choice_out_of_range(UiKind::SingleChoice, "", Response::Choices(vec![4]))]
#[case::choices_out_of_range(UiKind::MultipleChoice, "", Response::Choices(vec![1, 9]))]
fn invalid_scripted_answer_is_500_and_consumed(
    #[case] k: UiKind,
    #[case] opts: &str,
    #[case] r: Response,
) {
    // facts §3.4 MAXLEN/IT, §3.3 choice indexes; our choice: refuse with 500, never truncate.
    let mut h = UiHooks::new(script(&[(k, r)], Fallback::Accept));
    let ans = h.alert(&mut tree(), &ui_alert(k, opts));
    assert_eq!(ans.code, S::CommandFailed);
    assert!(ans.results.is_empty());
    let ev = &h.events()[0];
    assert_eq!(ev.source, AnswerSource::Script(0));
    assert!(ev.note.as_deref().unwrap().contains("answer refused"));
    assert!(matches!(h.policy(), UiPolicy::Scripted { answers, .. } if answers.is_empty()));
}

#[test]
fn empty_multiple_choice_selection_is_200_without_items() {
    // facts §3.3: 1104 one Item per selected index — none selected, none sent.
    let (ans, _) = answer(
        script(
            &[(UiKind::MultipleChoice, Response::Choices(vec![]))],
            Fallback::Reject,
        ),
        &ui_alert(UiKind::MultipleChoice, ""),
    );
    assert_eq!(ans.code, S::Ok);
    assert!(ans.results.is_empty());
}

const SCRIPT: &str = r#"
fallback = "cancel"

[[answers]]
alert = "display"
response = "accept"

[[answers]]
alert = "confirm"
response = "reject"

[[answers]]
alert = "text_input"
response = "text"
text = "12345"

[[answers]]
alert = "single_choice"
response = "choices"
choices = [2]

[[answers]]
alert = "multiple_choice"
response = "choices"
choices = [3, 1]

[[answers]]
alert = "confirm"
response = "timeout"

[[answers]]
alert = "display"
response = "status"
status = 416
"#;

#[test]
fn script_file_loads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ui.toml");
    std::fs::write(&path, SCRIPT).unwrap();
    let s = Script::load(&path).unwrap();
    assert_eq!(s.fallback, Fallback::Cancel);
    let responses: Vec<_> = s.answers.iter().map(|a| a.response.clone()).collect();
    assert_eq!(
        responses,
        [
            Response::Accept,
            Response::Reject,
            Response::Text("12345".into()),
            Response::Choices(vec![2]),
            Response::Choices(vec![3, 1]),
            Response::Timeout,
            Response::Status(416),
        ]
    );
    // Round trip through the serialised form.
    let back = toml::to_string(&s).unwrap();
    assert_eq!(Script::from_toml(&back).unwrap(), s);
    // Played against the alerts it expects.
    let mut h = UiHooks::new(s.into());
    let mut t = tree();
    let codes: Vec<u16> = [1100, 1101, 1102, 1103, 1104, 1101, 1100, 1101]
        .iter()
        .map(|&c| h.alert(&mut t, &ui_alert(kind(c), "")).code.as_u16())
        .collect();
    // The last 1101 finds the script exhausted: fallback cancel → 214.
    assert_eq!(codes, [200, 304, 200, 200, 200, 408, 416, 214]);
}

#[rstest]
#[case::text_on_confirm("alert = \"confirm\"\nresponse = \"text\"\ntext = \"x\"", "text_input")]
#[case::text_missing("alert = \"text_input\"\nresponse = \"text\"", "needs `text`")]
#[case::choices_on_text(
    "alert = \"text_input\"\nresponse = \"choices\"\nchoices = [1]",
    "does not fit"
)]
#[case::single_with_two(
    "alert = \"single_choice\"\nresponse = \"choices\"\nchoices = [1, 2]",
    "exactly one"
)]
#[case::choice_zero(
    "alert = \"multiple_choice\"\nresponse = \"choices\"\nchoices = [0]",
    "choice 0"
)]
#[case::choice_twice(
    "alert = \"multiple_choice\"\nresponse = \"choices\"\nchoices = [2, 2]",
    "twice"
)]
#[case::extra_field(
    "alert = \"confirm\"\nresponse = \"accept\"\ntext = \"x\"",
    "does not go with"
)]
#[case::unknown_response("alert = \"confirm\"\nresponse = \"maybe\"", "unknown response")]
#[case::unknown_kind("alert = \"popup\"\nresponse = \"accept\"", "unknown variant")]
#[case::unknown_field(
    "alert = \"confirm\"\nresponse = \"accept\"\nwhen = 1",
    "unknown field"
)]
#[case::bad_status(
    "alert = \"confirm\"\nresponse = \"status\"\nstatus = 42",
    "not a status code"
)]
fn bad_script_files(#[case] answer: &str, #[case] msg: &str) {
    let text = format!("[[answers]]\n{answer}\n");
    let e = Script::from_toml(&text).unwrap_err().to_string();
    assert!(e.contains(msg), "{e}");
}

#[test]
fn missing_script_file_is_an_io_error() {
    let e = Script::load("/nonexistent/ui.toml").unwrap_err();
    assert!(e.to_string().contains("cannot read UI script"));
}

// ---------------------------------------------------------------------------------------------
// Policy configuration (device profile)
// ---------------------------------------------------------------------------------------------

#[rstest]
#[case::accept("mode = \"accept\"", accept())]
#[case::accept_text("mode = \"accept\"\ntext = \"hi\"", UiPolicy::Accept { text: Some("hi".into()) })]
#[case::reject("mode = \"reject\"", UiPolicy::Reject)]
#[case::timeout("mode = \"timeout\"", UiPolicy::Timeout)]
#[case::headless("mode = \"headless\"", UiPolicy::Headless)]
#[case::scripted_empty(
    "mode = \"scripted\"",
    UiPolicy::Scripted { fallback: Fallback::Reject, answers: VecDeque::new() }
)]
#[case::scripted(
    "mode = \"scripted\"\nfallback = \"timeout\"\n[[answers]]\nalert = \"confirm\"\nresponse = \"cancel\"",
    script(&[(UiKind::Confirm, Response::Cancel)], Fallback::Timeout)
)]
fn policy_from_toml(#[case] text: &str, #[case] want: UiPolicy) {
    let p: UiPolicy = toml::from_str(text).unwrap();
    assert_eq!(p, want);
    let back = toml::to_string(&p).unwrap();
    assert_eq!(toml::from_str::<UiPolicy>(&back).unwrap(), p);
}

#[test]
fn policy_from_json() {
    let p: UiPolicy = serde_json::from_str(
        r#"{"mode":"scripted","answers":[{"alert":"text_input","response":"text","text":"x"}]}"#,
    )
    .unwrap();
    assert_eq!(
        p,
        script(
            &[(UiKind::TextInput, Response::Text("x".into()))],
            Fallback::Reject
        )
    );
}

#[rstest]
#[case::unknown_mode("mode = \"maybe\"")]
#[case::reject_with_text("mode = \"reject\"\ntext = \"x\"")]
#[case::no_mode("text = \"x\"")]
#[case::headless_with_answers("mode = \"headless\"\nanswers = []")]
#[case::accept_with_fallback("mode = \"accept\"\nfallback = \"reject\"")]
#[case::typo("mode = \"accept\"\ntxt = \"x\"")]
fn bad_policy(#[case] text: &str) {
    assert!(toml::from_str::<UiPolicy>(text).is_err());
}

#[test]
fn default_policy_is_accept() {
    assert_eq!(UiPolicy::default(), accept());
}

// ---------------------------------------------------------------------------------------------
// Non-UI alerts and the log
// ---------------------------------------------------------------------------------------------

#[rstest]
#[case::generic_alert(1226)]
#[case::server_initiated(1200)]
#[case::client_event(1224)]
#[case::reserved(1150)]
#[case::unknown(4242)]
fn non_ui_alerts_are_406(#[case] code: u16) {
    // facts §3.3 (1226 is C→S only, 1200/1201/1224 C→S), §3.1 406.
    let (ans, ev) = answer(accept(), &alert(code, "", "", &[]));
    assert_eq!(ans.code, S::OptionalFeatureNotSupported);
    assert_eq!(ev.source, AnswerSource::Inner);
    assert_eq!(ev.code, Some(AlertCode::from_u16(code)));
}

#[test]
fn non_ui_alerts_go_to_the_inner_hooks() {
    struct Ack(usize);
    impl CommandHooks for Ack {
        fn alert(&mut self, _t: &mut Tree, _a: &Alert) -> AlertAnswer {
            self.0 += 1;
            AlertAnswer {
                code: S::Ok,
                results: vec![],
            }
        }
    }
    let mut h = UiHooks::with_inner(UiPolicy::Reject, Ack(0));
    let mut t = tree();
    assert_eq!(h.alert(&mut t, &alert(1222, "", "", &[])).code, S::Ok);
    assert_eq!(
        h.alert(&mut t, &ui_alert(UiKind::Confirm, "")).code,
        S::NotModified
    );
    assert_eq!(h.inner_mut().0, 1);
}

#[test]
fn alert_without_code_is_412() {
    // facts §3.2: 412 incomplete command.
    let mut a = alert(1100, "", "", &[]);
    a.code = None;
    let (ans, ev) = answer(accept(), &a);
    assert_eq!(ans.code, S::IncompleteCommand);
    assert_eq!(ev.source, AnswerSource::Malformed);
}

#[rstest]
#[case::display_mindt(accept(), 1100, "MINDT=4&MAXDT=20", Waited::MinDisplay(4))]
#[case::display_no_mindt(accept(), 1100, "", Waited::Immediate)]
#[case::display_timeout(UiPolicy::Timeout, 1100, "MINDT=4&MAXDT=20", Waited::MaxDt(20))]
#[case::confirm_accept(accept(), 1101, "MINDT=4&MAXDT=20", Waited::Immediate)]
#[case::confirm_timeout(UiPolicy::Timeout, 1101, "MAXDT=20", Waited::MaxDt(20))]
#[case::confirm_timeout_no_maxdt(UiPolicy::Timeout, 1101, "", Waited::DeviceLimit)]
#[case::headless(UiPolicy::Headless, 1101, "MAXDT=20", Waited::NotShown)]
fn timing_is_recorded_not_slept(
    #[case] policy: UiPolicy,
    #[case] code: u16,
    #[case] opts: &str,
    #[case] want: Waited,
) {
    // facts §3.4 MINDT / MAXDT (MAXDT expiry → 408).
    let (_, ev) = answer(policy, &ui_alert(kind(code), opts));
    assert_eq!(ev.timing.waited, want);
    if want != Waited::NotShown {
        let o = UiOptions::parse(opts).unwrap();
        assert_eq!((ev.timing.min_dt, ev.timing.max_dt), (o.min_dt, o.max_dt));
    }
}

#[test]
fn event_records_the_whole_exchange() {
    let (_, ev) = answer(
        script(
            &[(UiKind::TextInput, Response::Text("pw12".into()))],
            Fallback::Reject,
        ),
        &ui_alert(UiKind::TextInput, "ET=P&MAXLEN=4&FOO=1"),
    );
    assert_eq!(ev.cmd_id, "7");
    assert_eq!(ev.code, Some(AlertCode::TextInput));
    assert_eq!(ev.raw_options.as_deref(), Some("ET=P&MAXLEN=4&FOO=1"));
    let a = ev.alert.as_ref().unwrap();
    assert_eq!(a.text, "Question?");
    assert_eq!(a.options.echo_type(), EchoType::Password);
    assert_eq!(a.options.ignored, ["FOO"]);
    assert_eq!(ev.input, Some(UiInput::Text("pw12".into())));
    assert_eq!(ev.response, Some(Response::Text("pw12".into())));
    // The log serialises for transcripts.
    let json = serde_json::to_value(&ev).unwrap();
    assert_eq!(json["status"], 200);
    assert_eq!(json["alert"]["options"]["echo_type"], "P");
}

// ---------------------------------------------------------------------------------------------
// Through the processor (facts §2.6)
// ---------------------------------------------------------------------------------------------

fn open_tree() -> Tree {
    let mut t = tree();
    let l = Principal::Local;
    t.add(&l, "./Open", NewNode::interior()).unwrap();
    t.replace_prop(
        &l,
        "./Open",
        dm_protocol::uri::Property::Acl,
        "Add=*&Delete=*&Exec=*&Get=*&Replace=*",
    )
    .unwrap();
    t.add(&l, "./Open/A", NewNode::leaf("a")).unwrap();
    t
}

fn commands(body: &str) -> Vec<Command> {
    let msg = format!(
        r#"<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>2</MsgID><Target><LocURI>IMEI:1</LocURI></Target><Source><LocURI>srvA</LocURI></Source></SyncHdr><SyncBody>{body}<Final/></SyncBody></SyncML>"#
    );
    decode(msg.as_bytes(), DecodeOptions::LENIENT)
        .unwrap()
        .message
        .body
        .commands
}

const CONFIRMED_SEQUENCE: &str = r#"<Sequence><CmdID>1</CmdID>
  <Add><CmdID>2</CmdID><Item><Target><LocURI>./Open/B</LocURI></Target><Data>b</Data></Item></Add>
  <Alert><CmdID>3</CmdID><Data>1101</Data><Item><Data>MINDT=2&amp;DR=1</Data></Item><Item><Data>Delete A?</Data></Item></Alert>
  <Delete><CmdID>4</CmdID><Item><Target><LocURI>./Open/A</LocURI></Target></Item></Delete>
  <Replace><CmdID>5</CmdID><Item><Target><LocURI>./Open/B</LocURI></Target><Data>b2</Data></Item></Replace>
</Sequence>"#;

fn run(policy: UiPolicy, body: &str) -> (Tree, CommandOutcome, UiHooks) {
    let mut t = open_tree();
    let mut hooks = UiHooks::new(policy);
    let who = Principal::server("srvA");
    let mut p = Processor::new();
    let out = commands(body)
        .iter()
        .map(|c| p.process(&mut t, &who, c, &mut hooks))
        .next_back()
        .unwrap();
    (t, out, hooks)
}

fn child_codes(o: &CommandOutcome) -> Vec<u16> {
    o.children.iter().map(|c| c.code.as_u16()).collect()
}

#[test]
fn sequence_no_skips_the_rest() {
    // facts §2.6: Sequence 200 once begun; after the user's "No" the rest are 215;
    // facts §3.4: 1101 "No" inside a Sequence bypasses the rest.
    let (t, out, hooks) = run(UiPolicy::Reject, CONFIRMED_SEQUENCE);
    assert_eq!(out.code, S::Ok);
    assert_eq!(child_codes(&out), [200, 304, 215, 215]);
    assert!(t.exists(&"./Open/A".parse().unwrap()));
    assert_eq!(t.value_str("./Open/B").unwrap(), "b");
    let ev = &hooks.events()[0];
    assert_eq!(ev.cmd_id, "3");
    assert_eq!(ev.timing.min_dt, Some(2));
    assert_eq!(
        ev.alert.as_ref().unwrap().default,
        Some(DefaultResponse::Confirm(true))
    );
}

#[test]
fn sequence_yes_runs_everything() {
    // facts §2.6, §3.3: 200 = yes.
    let (t, out, _) = run(accept(), CONFIRMED_SEQUENCE);
    assert_eq!(child_codes(&out), [200, 200, 200, 200]);
    assert!(!t.exists(&"./Open/A".parse().unwrap()));
    assert_eq!(t.value_str("./Open/B").unwrap(), "b2");
}

#[test]
fn sequence_cancelled_input_skips_the_rest() {
    // facts §3.4: user cancel → 214 on the Alert, remaining commands 215.
    let body = r#"<Sequence><CmdID>1</CmdID>
  <Alert><CmdID>2</CmdID><Data>1102</Data><Item><Data>IT=N&amp;MAXLEN=4</Data></Item><Item><Data>PIN?</Data></Item></Alert>
  <Delete><CmdID>3</CmdID><Item><Target><LocURI>./Open/A</LocURI></Target></Item></Delete>
</Sequence>"#;
    let (t, out, _) = run(
        script(&[(UiKind::TextInput, Response::Cancel)], Fallback::Accept),
        body,
    );
    assert_eq!(child_codes(&out), [214, 215]);
    assert!(t.exists(&"./Open/A".parse().unwrap()));
}

#[test]
fn text_input_results_reach_the_outcome() {
    // facts §3.3: 1102 reply Status 200 with Item/Data = text.
    let body = r#"<Alert><CmdID>9</CmdID><Data>1102</Data><Item><Data>IT=N&amp;MAXLEN=4</Data></Item><Item><Data>PIN?</Data></Item></Alert>"#;
    let (_, out, _) = run(
        script(
            &[(UiKind::TextInput, Response::Text("1234".into()))],
            Fallback::Reject,
        ),
        body,
    );
    assert_eq!(out.code, S::Ok);
    assert_eq!(texts(&out.results), ["1234"]);
}

/// DMRD-6.1.4-16 (docs/scomo.md "Inventory consent"): with `ask`, the first read of the
/// installed-application list puts one confirmation to the user; a refusal (or a device
/// without UI) withholds it with 425, an agreement lets every later read through; other
/// nodes are never asked about.
#[test]
fn inventory_reads_need_the_users_consent_once_per_session() {
    use dm_client::privacy::{InventoryConsent, InventoryGate};
    let t = tree();
    let gate = InventoryGate::new(InventoryConsent::Ask, false);
    let mut refused = UiHooks::new(UiPolicy::Reject).with_inventory_gate(gate);
    assert_eq!(refused.may_read(&t, "./DevInfo/Man", false), None);
    assert!(refused.events().is_empty(), "nothing asked for other nodes");
    assert_eq!(
        refused.may_read(&t, "./SCOMO/Inventory/Deployed", false),
        Some(S::PermissionDenied)
    );
    assert_eq!(
        refused.may_read(&t, "./SCOMO", true),
        Some(S::PermissionDenied)
    );
    assert_eq!(refused.events().len(), 1, "asked once");
    assert_eq!(refused.events()[0].code, Some(AlertCode::ConfirmOrReject));

    let mut agreed = UiHooks::new(UiPolicy::Accept { text: None }).with_inventory_gate(gate);
    assert_eq!(agreed.may_read(&t, "./SCOMO/Inventory", false), None);
    assert_eq!(agreed.may_read(&t, ".", true), None);
    assert_eq!(agreed.events().len(), 1);

    let mut headless = UiHooks::new(UiPolicy::Headless).with_inventory_gate(gate);
    assert_eq!(
        headless.may_read(&t, "./SCOMO/Inventory", false),
        Some(S::PermissionDenied)
    );
    // Without a gate nothing is withheld.
    assert_eq!(
        UiHooks::new(UiPolicy::Reject).may_read(&t, "./SCOMO/Inventory", false),
        None
    );
}
