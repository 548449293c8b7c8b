package rbac_test

import data.rbac

document(owner, tenant) := {"type": "document", "id": "d1", "tenant": tenant, "owner": owner}

request(subject, action, resource) := {
	"subject": {"id": subject, "tenant": "acme"},
	"action": action,
	"resource": resource,
}

test_admin_may_do_anything_in_its_tenant if {
	rbac.allow with input as request("alice", "delete", document("bob", "acme"))
}

test_editor_may_update_documents if {
	rbac.allow with input as request("bob", "update", document("carol", "acme"))
}

test_viewer_may_read_but_not_update if {
	rbac.allow with input as request("carol", "read", document("bob", "acme"))
	not rbac.allow with input as request("carol", "update", document("bob", "acme"))
}

test_owner_may_delete_own_document if {
	rbac.allow with input as request("carol", "delete", document("carol", "acme"))
}

test_no_access_across_tenants if {
	not rbac.allow with input as request("alice", "read", document("dave", "globex"))
	reasons := rbac.reasons with input as request("alice", "read", document("dave", "globex"))
	"the subject and the resource belong to different tenants" in reasons
}

test_denial_explains_itself if {
	reasons := rbac.reasons with input as request("carol", "update", document("bob", "acme"))
	reasons == {"carol may not update document d1"}
}

test_unknown_user_has_no_roles if {
	count(rbac.roles) == 0 with input as request("mallory", "read", document("bob", "acme"))
}

test_roles_come_from_data if {
	rbac.allow with input as request("erin", "update", document("bob", "acme")) with data.tenants.acme.members as {"erin": ["editor"]}
}
