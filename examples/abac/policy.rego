# Attribute-based access control for an internal document store.
#
# Input:
#   {
#     "user": {"id": "ann", "department": "finance", "clearance": 3},
#     "action": "read",
#     "resource": {"id": "r1", "department": "finance", "classification": 2, "public": false},
#     "time": "2026-11-27T10:30:00Z",
#     "ip": "10.1.2.3"
#   }
#
# Reading needs the same department, enough clearance, business hours (UTC, Monday to Friday)
# and a corporate network address (data.networks); public documents are readable by anyone.
package abac

# METADATA
# title: Allow
# description: True when the user may perform the action on the resource now, from there.
default allow := false

allow if {
	input.action == "read"
	input.resource.public == true
}

allow if {
	input.action == "read"
	same_department
	cleared
	business_hours
	corporate_network
}

allow if {
	input.action == "update"
	same_department
	cleared
	input.user.id in data.editors[input.resource.department]
	business_hours
	corporate_network
}

same_department if input.user.department == input.resource.department

cleared if input.user.clearance >= input.resource.classification

business_hours if {
	ns := time.parse_rfc3339_ns(input.time)
	[hour, _, _] := time.clock(ns)
	hour >= 8
	hour < 18
	time.weekday(ns) in {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"}
}

corporate_network if {
	some cidr in data.networks
	net.cidr_contains(cidr, input.ip)
}
