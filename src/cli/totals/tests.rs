//! Tests of the replay totals: verdict order, runs and keyed lane records counted as their briefs, and merges.

use super::*;

/// A FORWARD packet's brief with no dependencies.
fn brief<'a>(verdict: Verdict, ctstate: &'static str, rule: Option<&'a RuleName>) -> Brief<'a> {
    Brief {
        verdict,
        hook: Some("FORWARD"),
        ctstate: Some(ctstate),
        rule,
        depends_on: &[],
    }
}

#[test]
fn verdicts_are_listed_in_discriminant_order() {
    for (i, v) in VERDICTS.iter().enumerate() {
        assert_eq!(*v as usize, i, "{v:?}");
    }
}

#[test]
fn equal_names_at_different_addresses_count_together() {
    let mut c = Counts::default();
    let a = String::from("ACCEPT");
    let leaked: &'static str = Box::leak(a.into_boxed_str());
    c.bump("ACCEPT");
    c.bump(leaked);
    c.bump("DROP");
    assert_eq!(c.sorted(), BTreeMap::from([("ACCEPT", 2), ("DROP", 1)]));
}

#[test]
fn runs_of_alike_packets_count_as_single_packets_do() {
    let (a, b): (RuleName, RuleName) = ("filter/FORWARD/1".into(), "filter/FORWARD/2".into());
    let seq = [
        brief(Verdict::Accept, "NEW", Some(&a)),
        brief(Verdict::Accept, "ESTABLISHED", Some(&a)),
        brief(Verdict::Accept, "ESTABLISHED", Some(&a)),
        brief(Verdict::Accept, "ESTABLISHED", Some(&b)),
        brief(Verdict::Drop, "ESTABLISHED", None),
        brief(Verdict::Drop, "ESTABLISHED", None),
        brief(Verdict::Accept, "ESTABLISHED", Some(&a)),
        Brief {
            hook: None,
            ctstate: None,
            ..brief(Verdict::NotReached, "", None)
        },
    ];
    let mut t = Totals::default();
    seq.iter().for_each(|o| t.add(o));
    let mut settled = Totals::default();
    settled.merge(t);
    assert_eq!(settled.packets, 8);
    assert_eq!(
        settled.verdicts(),
        BTreeMap::from([("ACCEPT", 5), ("DROP", 2), ("NOT_REACHED", 1)])
    );
    assert_eq!(
        settled.ctstates(),
        BTreeMap::from([("ESTABLISHED", 6), ("NEW", 1), ("none", 1)])
    );
    assert_eq!(
        settled.hooks(),
        BTreeMap::from([("FORWARD", 7), ("none", 1)])
    );
    assert_eq!(
        settled.top_rules(),
        [("filter/FORWARD/1", 4), ("filter/FORWARD/2", 1)]
    );
}

/// Records counted by key, in runs and out of them, count as their briefs do.
#[test]
fn keyed_records_count_as_their_briefs() {
    let (a, b): (RuleName, RuleName) = ("filter/FORWARD/1".into(), "filter/FORWARD/2".into());
    let one = brief(Verdict::Accept, "ESTABLISHED", Some(&a));
    let two = brief(Verdict::Drop, "ESTABLISHED", Some(&b));
    let new = brief(Verdict::Accept, "NEW", Some(&a));
    // Keys 1 and 3 name the same brief; None is a record counted by its brief alone;
    // keys of one learned outcome in two states alternate; a key beyond `keyed_at`.
    let (k1, k2, k3, k1new) = (8, 16, KEYED_AT_MAX + 24, 11);
    let seq = [
        (Some(k1), &one),
        (Some(k1), &one),
        (None, &one),
        (Some(k3), &one),
        (Some(k1), &one),
        (Some(k2), &two),
        (None, &new),
        (Some(k1), &one),
        (None, &two),
        (Some(k2), &two),
        (Some(k1new), &new),
        (Some(k1), &one),
        (Some(k1new), &new),
        (Some(k2), &two),
    ];
    let (mut keyed, mut plain) = (Totals::default(), Totals::default());
    for (id, o) in seq {
        match id {
            Some(k) => keyed.add_keyed(k, || *o),
            None => keyed.add(o),
        }
        plain.add(o);
    }
    let (mut k, mut p) = (Totals::default(), Totals::default());
    k.merge(keyed);
    p.merge(plain);
    assert_eq!(k.packets, 14);
    assert_eq!(
        (k.packets, k.verdicts(), k.ctstates(), k.top_rules()),
        (p.packets, p.verdicts(), p.ctstates(), p.top_rules())
    );
    assert_eq!(k.verdicts(), BTreeMap::from([("ACCEPT", 10), ("DROP", 4)]));
    assert_eq!(
        k.ctstates(),
        BTreeMap::from([("ESTABLISHED", 11), ("NEW", 3)])
    );
}

#[test]
fn merged_totals_count_as_one_did() {
    let brief = |verdict, rule, depends_on| Brief {
        verdict,
        hook: Some("FORWARD"),
        ctstate: Some("NEW"),
        rule,
        depends_on,
    };
    // The same rule, named by each worker's engine (two addresses).
    let (one_a, one_b) = (
        RuleName::from("filter/FORWARD/1"),
        "filter/FORWARD/1".into(),
    );
    let two = RuleName::from("filter/FORWARD/2");
    let mut a = Totals {
        skipped: 1,
        ..Totals::default()
    };
    for _ in 0..3 {
        a.add(&brief(Verdict::Accept, Some(&one_a), &[]));
    }
    let mut b = Totals {
        errors: 1,
        ..Totals::default()
    };
    b.add(&brief(Verdict::Drop, Some(&two), &["socket"]));
    b.add(&brief(Verdict::Accept, Some(&one_b), &["socket"]));
    a.merge(b);
    assert_eq!((a.packets, a.skipped, a.errors), (5, 1, 1));
    assert_eq!(a.verdicts(), BTreeMap::from([("ACCEPT", 4), ("DROP", 1)]));
    assert_eq!(a.hooks(), BTreeMap::from([("FORWARD", 5)]));
    assert_eq!(a.depends(), BTreeMap::from([("socket", 2)]));
    assert_eq!(
        a.top_rules(),
        [("filter/FORWARD/1", 4), ("filter/FORWARD/2", 1)]
    );
}

#[test]
fn the_last_record_is_the_highest_numbered_over_the_workers() {
    let mut t = [Tally::default(), Tally::default(), Tally::default()];
    (t[0].last_seq, t[0].last_ts) = (8, 80);
    (t[1].last_seq, t[1].last_ts) = (10, 70);
    let (_, ts) = Tally::merge(t.into_iter().collect());
    assert_eq!(ts, 70);
    assert_eq!(Tally::merge(Vec::new()).1, 0);
}
