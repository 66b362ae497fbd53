//! Each SNS subscription's filter policy lets through exactly the event types its consumer
//! acts on (its `receives`): a type it handles but never gets, or gets but ignores, fails.

use std::collections::BTreeSet;

use common::events::{DomainEvent, Envelope};
use devstack::template::{FunctionEvent, Template};

/// One decoded sample of every event type (events/domain/, checked complete by samples.rs).
fn samples() -> Vec<DomainEvent> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events/domain");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        out.push(serde_json::from_str::<Envelope>(&text).unwrap().decode().unwrap());
    }
    assert_eq!(out.len(), DomainEvent::TYPES.len());
    out
}

/// The third cell (the filter) of the row of docs/events.md's consumers table naming `queue`.
fn docs_row(queue: &str) -> String {
    let docs = std::fs::read_to_string(std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/events.md")).unwrap();
    let consumers = &docs[docs.find("## Consumers").expect("a consumers section")..];
    let row = consumers
        .lines()
        .find(|l| l.split('|').nth(2).is_some_and(|cell| cell.contains(&format!("`{queue}`"))))
        .unwrap_or_else(|| panic!("docs/events.md has no consumer row for {queue}"));
    row.split('|').nth(3).unwrap_or_default().to_string()
}

#[test]
fn every_subscription_filters_on_what_its_consumer_receives() {
    // The consumer of each queue, by the template function's handler (the crate's row).
    let consumers: [(&str, fn(&DomainEvent) -> bool); 4] = [
        ("notifications-consumer", notifications::receives),
        ("analytics-consumer", analytics::consumer::receives),
        ("search-indexer", search::indexer::receives),
        ("search-alerts", search::alerts::receives),
    ];
    let t = Template::load(&devstack::default_template()).unwrap();
    let functions = t.functions().unwrap();
    let mut checked = BTreeSet::new();
    for (name, sub) in t.of_kind("AWS::SNS::Subscription") {
        // `Endpoint: !GetAtt <Queue>.Arn`: the function with an SQS event on that queue.
        let endpoint = serde_yaml::to_string(&sub.properties["Endpoint"]).unwrap();
        let queue = endpoint
            .split(['.', ' ', '\n'])
            .find(|w| w.ends_with("Queue"))
            .unwrap_or_default()
            .to_string();
        let handler = functions
            .iter()
            .find(|f| {
                f.events
                    .iter()
                    .any(|e| matches!(e, FunctionEvent::Sqs { queue: q, .. } if *q == queue))
            })
            .map(|f| f.handler.clone())
            .unwrap_or_else(|| panic!("{name}: no function consumes {queue} ({endpoint})"));
        let receives = consumers
            .iter()
            .find(|(h, _)| *h == handler)
            .unwrap_or_else(|| panic!("{name} feeds {handler}, whose receives is not checked here"))
            .1;
        let policy: BTreeSet<String> = sub.properties["FilterPolicy"]["type"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{name} filters on `type`"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        let wanted: BTreeSet<String> = samples().iter().filter(|e| receives(e)).map(|e| e.kind().to_string()).collect();
        let never_delivered: Vec<_> = wanted.difference(&policy).collect();
        let ignored: Vec<_> = policy.difference(&wanted).collect();
        assert!(
            never_delivered.is_empty() && ignored.is_empty(),
            "{name} ({handler}): acts on but never gets {never_delivered:?}; gets but ignores {ignored:?}"
        );
        // docs/events.md's table of consumers says the same.
        let documented: BTreeSet<String> = docs_row(&queue)
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|w| w.contains('.'))
            .map(str::to_string)
            .collect();
        assert_eq!(documented, policy, "docs/events.md's filter for {queue} is not {name}'s");
        checked.insert(handler);
    }
    assert_eq!(checked.len(), consumers.len(), "every consumer has a subscription: {checked:?}");
}
