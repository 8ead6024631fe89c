//! `PATCH /codespaces/{id}/ports/{port}`: a port added or changed, a visibility the policies
//! refuse, bad ports and visibilities, and codespaces the org does not pay for.

use axum::http::StatusCode;
use serde_json::json;

use crate::life_support::*;

crate::backend_tests! {
    async fn a_port_is_added_changed_and_listed_by_number(app) {
        let service = arrange(&app).await;
        let codespace = create(&app, &service, json!({})).await;
        assert_eq!(codespace["ports"], json!([]));
        let added = ok(set_port(&app, &service, &codespace, "3000", json!({ "visibility": "public" })).await);
        assert_eq!(added["ports"], json!([{ "port": 3000, "visibility": "public" }]));
        let changed = ok(set_port(&app, &service, &codespace, "3000", json!({ "visibility": "org" })).await);
        assert_eq!(changed["ports"], json!([{ "port": 3000, "visibility": "org" }]));
        let both = ok(set_port(&app, &service, &codespace, "22", json!({ "visibility": "private" })).await);
        assert_eq!(both["ports"], json!([{ "port": 22, "visibility": "private" },
            { "port": 3000, "visibility": "org" }]));
        assert_eq!(ok(app.get(&path(&codespace, ""), &service).await)["ports"], both["ports"]);
        let edges = ok(set_port(&app, &service, &codespace, "65535", json!({ "visibility": "org" })).await);
        assert_eq!(edges["ports"][2], json!({ "port": 65535, "visibility": "org" }));
        let entry = &codespace_entries(&app).await[0];
        assert_eq!(entry["action"], "codespace.port");
        assert_eq!(entry["after"]["ports"], edges["ports"]);
    }

    async fn a_visibility_the_policies_refuse_is_a_400_naming_the_policy_and_changes_nothing(app) {
        let service = arrange(&app).await;
        let codespace = create(&app, &service, json!({})).await;
        ok(set_port(&app, &service, &codespace, "8080", json!({ "visibility": "org" })).await);
        policy(&app, "Internal ports", json!({ "port_visibility": { "allowed_values": ["org"] } })).await;
        let before = ok(app.get(&path(&codespace, ""), &service).await);

        for port in ["8080", "9000"] {
            let refused = set_port(&app, &service, &codespace, port, json!({ "visibility": "public" })).await;
            assert_error(&refused, StatusCode::BAD_REQUEST,
                "Port visibility 'public' is not allowed based on the organization policy 'Internal ports' set by your organization administrator.");
        }
        assert_eq!(ok(app.get(&path(&codespace, ""), &service).await), before);
        policy(&app, "Private ports", json!({ "port_visibility": { "allowed_values": [] } })).await;
        let refused = set_port(&app, &service, &codespace, "9000", json!({ "visibility": "org" })).await;
        assert_error(&refused, StatusCode::BAD_REQUEST,
            "Port visibility 'org' is not allowed based on the organization policy 'Private ports' set by your organization administrator.");
        let private = ok(set_port(&app, &service, &codespace, "8080", json!({ "visibility": "private" })).await);
        assert_eq!(private["ports"], json!([{ "port": 8080, "visibility": "private" }]));
    }

    async fn a_bad_port_or_visibility_is_a_422_naming_it_and_changes_nothing(app) {
        let service = arrange(&app).await;
        let codespace = create(&app, &service, json!({})).await;
        for port in ["0", "65536", "-1", "http", "3000.5", "99999999999"] {
            let refused = set_port(&app, &service, &codespace, port, json!({ "visibility": "org" })).await;
            assert_invalid(&refused, "port");
        }
        for body in [json!({ "visibility": "secret" }), json!({ "visibility": 5 }), json!({}),
            json!({ "visibility": "Public" }), json!({ "visibility": null })] {
            let refused = set_port(&app, &service, &codespace, "3000", body).await;
            assert_invalid(&refused, "visibility");
        }
        let unknown = set_port(&app, &service, &codespace, "3000",
            json!({ "visibility": "org", "protocol": "https" })).await;
        assert_invalid(&unknown, "body");
        assert_eq!(ok(app.get(&path(&codespace, ""), &service).await), codespace);
        assert!(codespace_entries(&app).await.is_empty());
    }

    async fn a_codespace_the_org_does_not_pay_for_is_not_bound_by_its_port_policies(app) {
        let service = arrange(&app).await;
        policy(&app, "Private ports", json!({ "port_visibility": { "allowed_values": [] } })).await;
        let own = create_for(&app, &service, "stranger", json!({})).await;
        let public = ok(set_port(&app, &service, &own, "3000", json!({ "visibility": "public" })).await);
        assert_eq!(public["ports"], json!([{ "port": 3000, "visibility": "public" }]));
        let billed = create(&app, &service, json!({})).await;
        let refused = set_port(&app, &service, &billed, "3000", json!({ "visibility": "public" })).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{:?}", refused.body);
    }

    async fn a_codespace_forwards_at_most_one_hundred_ports(app) {
        let service = arrange(&app).await;
        let codespace = create(&app, &service, json!({})).await;
        for port in 1..=100 {
            ok(set_port(&app, &service, &codespace, &port.to_string(), json!({ "visibility": "private" })).await);
        }
        let refused = set_port(&app, &service, &codespace, "8080", json!({ "visibility": "private" })).await;
        assert_invalid(&refused, "port");
        let changed = ok(set_port(&app, &service, &codespace, "100", json!({ "visibility": "org" })).await);
        assert_eq!(changed["ports"].as_array().unwrap().len(), 100);
    }
}
