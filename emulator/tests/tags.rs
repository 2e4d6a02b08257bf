//! Microsoft.Resources tags at a resource's scope: Merge, Replace and Delete, GET of the tags resource, the
//! tags on the resource's own GET, the 404 for a missing resource and the 400s for a malformed body.

mod common;

use common::*;
use serde_json::json;

const TAGS_API: &str = "2021-04-01";

fn tags_url(resource: &str) -> String {
    format!("{resource}/providers/Microsoft.Resources/tags/default?api-version={TAGS_API}")
}

#[tokio::test]
async fn merge_replace_delete_on_a_disk_show_on_the_disk_get() {
    let env = start().await;
    let disk = disk_id("rg-app", "app-data-01");
    let url = tags_url(&disk);

    let r = env.get(&url).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["id"], format!("{disk}/providers/Microsoft.Resources/tags/default"));
    assert_eq!(r.body["name"], "default");
    assert_eq!(r.body["type"], "Microsoft.Resources/tags");
    assert_eq!(r.body["properties"]["tags"], json!({}));

    let merge = |tags| json!({"operation": "Merge", "properties": {"tags": tags}});
    let r = env.call("PATCH", &url, Some(merge(json!({"drill-run": "r1", "drill-plan": "p"})))).await;
    assert_eq!(r.status, 200);
    let r = env.call("PATCH", &url, Some(merge(json!({"drill-run": "r2", "expiry": "2026-01-02"})))).await;
    assert_eq!(r.body["properties"]["tags"], json!({"drill-run": "r2", "drill-plan": "p", "expiry": "2026-01-02"}));
    let d = env.get(&format!("{disk}?api-version=2025-04-01")).await;
    assert_eq!(d.body["tags"]["drill-plan"], "p", "tags show on the resource's own GET");

    // Delete by name (empty value) and by a name/value pair that does not match (kept).
    let r = env
        .call(
            "PATCH",
            &url,
            Some(json!({"operation": "Delete", "properties": {"tags": {"drill-plan": "", "expiry": "other"}}})),
        )
        .await;
    assert_eq!(r.body["properties"]["tags"], json!({"drill-run": "r2", "expiry": "2026-01-02"}));

    let r = env.call("PATCH", &url, Some(json!({"operation": "Replace", "properties": {"tags": {"only": "1"}}}))).await;
    assert_eq!(r.body["properties"]["tags"], json!({"only": "1"}));
    assert_eq!(env.get(&url).await.body["properties"]["tags"], json!({"only": "1"}));
    let counts = env.admin("GET", "/counts", None).await;
    assert_eq!(counts["resources.tags.patch PATCH"], 4);
    assert_eq!(counts["resources.tags.get GET"], 2);
}

#[tokio::test]
async fn vm_tags_and_refusals() {
    let env = start().await;
    let vm = vm_id("vm-web-01");
    let r = env
        .call("PATCH", &tags_url(&vm), Some(json!({"operation": "Merge", "properties": {"tags": {"a": "b"}}})))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(env.get(&format!("{vm}?api-version=2025-04-01")).await.body["tags"], json!({"a": "b"}));

    let missing = tags_url(&disk_id("rg-app", "no-such-disk"));
    assert_eq!(env.get(&missing).await.status, 404);
    let r = env.call("PATCH", &tags_url(&vm), Some(json!({"operation": "Append", "properties": {"tags": {}}}))).await;
    assert_eq!((r.status, r.body["error"]["code"].as_str()), (400, Some("InvalidRequestContent")));
    let r =
        env.call("PATCH", &tags_url(&vm), Some(json!({"operation": "Merge", "properties": {"tags": {"n": 1}}}))).await;
    assert_eq!(r.status, 400, "tag values are strings");
    let r = env.call("PATCH", &tags_url(&vm), Some(json!({"operation": "Merge"}))).await;
    assert_eq!(r.status, 400, "properties.tags is required");
}

#[tokio::test]
async fn list_resources_in_a_group_by_tag() {
    let env = start().await;
    let merge = |tags| json!({"operation": "Merge", "properties": {"tags": tags}});
    let d1 = disk_id("rg-app", "app-data-01");
    let d2 = disk_id("rg-app", "app-data-02");
    env.call("PATCH", &tags_url(&d1), Some(merge(json!({"drill-run": "r1"})))).await;
    env.call("PATCH", &tags_url(&d2), Some(merge(json!({"drill-run": "r2"})))).await;
    env.call("PATCH", &tags_url(&vm_id("vm-web-01")), Some(merge(json!({"drill-run": "r1"})))).await;

    let list = |filter: &str| {
        format!("{}/resources?api-version={TAGS_API}&$filter={}", rg_id("rg-app"), filter.replace(' ', "%20"))
    };
    let ids = |r: &Resp| {
        let mut v: Vec<String> =
            r.body["value"].as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap().to_string()).collect();
        v.sort();
        v
    };
    let r = env.get(&list("tagName eq 'drill-run' and tagValue eq 'r1'")).await;
    assert_eq!(r.status, 200);
    let mut want = vec![d1.clone(), vm_id("vm-web-01")];
    want.sort();
    assert_eq!(ids(&r), want);
    assert_eq!(r.body["value"][0]["tags"]["drill-run"], "r1");
    let r = env.get(&list("tagName eq 'drill-run'")).await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 3);
    let r = env.get(&list("resourceType eq 'Microsoft.Compute/disks'")).await;
    assert_eq!((r.status, r.body["error"]["code"].as_str()), (400, Some("InvalidFilterInQueryString")));
    // Another group holds none of them.
    let r = env.get(&format!("{}/resources?api-version={TAGS_API}", rg_id("rg-restore"))).await;
    assert_eq!(ids(&r), vec![disk_id("rg-restore", "already-there")]);
}

#[tokio::test]
async fn a_disk_declared_with_tags_carries_them() {
    let mut s = example_scenario();
    let rg = s.subscriptions[0].resource_groups.iter_mut().find(|g| g.name == "rg-restore").unwrap();
    rg.disks[0].tags = [("drill-run".to_string(), "r9".to_string())].into();
    let env = start_with(s).await;
    let disk = disk_id("rg-restore", "already-there");
    assert_eq!(env.get(&tags_url(&disk)).await.body["properties"]["tags"], json!({"drill-run": "r9"}));
    assert_eq!(env.get(&format!("{disk}?api-version=2025-04-01")).await.body["tags"]["drill-run"], "r9");
}
