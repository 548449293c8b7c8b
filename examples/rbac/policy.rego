# Role-based access control for a multi-tenant document service.
#
# Input:
#   {
#     "subject": {"id": "alice", "tenant": "acme"},
#     "action": "read",
#     "resource": {"type": "document", "id": "d1", "tenant": "acme", "owner": "bob"}
#   }
#
# Roles are assigned per tenant (data.tenants), and each role grants actions on resource
# types (data.grants). Nobody acts across tenants; owners may always manage what they own.
package rbac

# METADATA
# title: Allow
# description: True when the subject may perform the action on the resource.
default allow := false

allow if {
	same_tenant
	some grant in grants
	grant.action in {input.action, "*"}
	grant.type in {input.resource.type, "*"}
}

allow if {
	same_tenant
	owner
	input.action in owner_actions
}

# What owners may do with their own resources, whatever their roles.
owner_actions := {"read", "update", "delete", "share"}

# The subject's roles in its own tenant.
roles contains role if {
	some role in data.tenants[input.subject.tenant].members[input.subject.id]
}

grants contains grant if {
	some role in roles
	some grant in data.grants[role]
}

same_tenant if input.subject.tenant == input.resource.tenant

owner if input.subject.id == input.resource.owner

# Why a request is denied, for audit logs and error messages.
reasons contains "the subject and the resource belong to different tenants" if not same_tenant

reasons contains msg if {
	same_tenant
	not allow
	msg := sprintf("%s may not %s %s %s", [
		input.subject.id,
		input.action,
		input.resource.type,
		input.resource.id,
	])
}
