# The in-process benchmark's scenario (the same as the peers'): roles scoped to a tenant,
# editors read and update, viewers read, owners update and delete their own documents,
# admins do anything in their tenant.
package authz

default allow := false

allow if {
	same_tenant
	input.user.role == "admin"
}

allow if {
	same_tenant
	input.action == "read"
}

allow if {
	same_tenant
	input.action == "update"
	input.user.role == "editor"
}

allow if {
	same_tenant
	input.action in {"update", "delete"}
	input.doc.owner == input.user.id
}

same_tenant if input.user.tenant == input.doc.tenant
