//! Tests of the Graph read path's paging that need no server: taking a page
//! apart. (The provider must not reach the emulator, even in tests.)

use serde_json::json;

use super::split_page;

#[test]
fn a_page_splits_into_its_items_and_its_next_link() {
    let (items, link) = split_page(json!({
        "@odata.context": "x",
        "value": [{"id": "a"}, {"id": "b"}],
        "@odata.nextLink": "https://graph/next?$skiptoken=1",
    }));
    assert_eq!(items, vec![json!({"id": "a"}), json!({"id": "b"})]);
    assert_eq!(link.as_deref(), Some("https://graph/next?$skiptoken=1"));
    let (items, link) = split_page(json!({"value": []}));
    assert!(items.is_empty() && link.is_none());
    // No list at all: nothing, rather than a panic.
    let (items, link) = split_page(json!({"value": {"id": "a"}}));
    assert!(items.is_empty() && link.is_none());
}
