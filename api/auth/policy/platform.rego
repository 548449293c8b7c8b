# Who may do what on Verdict's own admin API. Compiled by Verdict's toolchain when the server
# starts, and asked by every admin route (api/auth/access.ts); each answer is written to the
# decision log of the tenant it concerns.
#
# Input:
#   {
#     "principal": {"kind": "user", "id": "...", "tenant_id": "..." or null,
#                   "roles": ["policy-author"], "scopes": [], "mfa": true},
#     "action": "bundles.push",
#     "tenant": {"id": "..."} or null  (the tenant the route names, null when it names none
#                                       or an unknown one)
#   }
#
# data.actions lists every action: whether only platform admins may take it, which API-key
# scopes grant it, and whether a user needs MFA for it. data.roles lists the actions each human
# role may take in its own tenant.
package verdict.platform

# METADATA
# description: The answer the admin API acts on.
decision := {"allow": allow, "reason": reason}

default allow := false

# Platform admins (and the bootstrap token) may take every known action, on every tenant.
allow if {
	known_action
	platform_admin
}

# Everyone else acts only inside their own tenant, and never on platform-only actions.
allow if {
	known_action
	not action.platform
	own_tenant
	granted
}

known_action if data.actions[input.action]

action := data.actions[input.action]

platform_admin if "platform-admin" in input.principal.roles

own_tenant if {
	input.tenant != null
	input.principal.tenant_id != null
	input.principal.tenant_id == input.tenant.id
}

# A human role grants the actions data.roles lists for it; actions that change who may do
# what, or what is enforced, also need a second factor passed in this session.
granted if {
	input.principal.kind == "user"
	some role in input.principal.roles
	input.action in data.roles[role]
	mfa_satisfied
}

mfa_satisfied if not action.mfa

mfa_satisfied if input.principal.mfa == true

# An API key (role "app") needs one of the scopes the action accepts.
granted if {
	input.principal.kind == "api-key"
	"app" in input.principal.roles
	some scope in input.principal.scopes
	scope in action.scopes
}

default reason := "allowed"

reason := sprintf("unknown action %q", [input.action]) if {
	not known_action
} else := "only platform admins may do this" if {
	not allow
	action.platform
} else := "this principal belongs to another tenant" if {
	not allow
	not platform_admin
	not own_tenant
} else := "this action needs a second factor: log in again with MFA" if {
	not allow
	input.principal.kind == "user"
	not mfa_satisfied
	some role in input.principal.roles
	input.action in data.roles[role]
} else := sprintf("this API key has no scope that grants %q (it needs one of %v)", [input.action, action.scopes]) if {
	not allow
	input.principal.kind == "api-key"
	count(action.scopes) > 0
} else := sprintf("API keys may not %q: it takes a user whose role grants it, or the admin token", [input.action]) if {
	not allow
	input.principal.kind == "api-key"
} else := sprintf("no role of this user grants %q", [input.action]) if {
	not allow
}
