package abac_test

import data.abac

request(overrides) := object.union(
	{
		"user": {"id": "ann", "department": "finance", "clearance": 3},
		"action": "read",
		"resource": {"id": "r1", "department": "finance", "classification": 2, "public": false},
		"time": "2026-11-27T10:30:00Z",
		"ip": "10.1.2.3",
	},
	overrides,
)

test_reads_in_department_during_business_hours if {
	abac.allow with input as request({})
}

test_no_read_without_clearance if {
	not abac.allow with input as request({"user": {"id": "bo", "department": "finance", "clearance": 1}})
}

test_no_read_from_another_department if {
	not abac.allow with input as request({"user": {"id": "lee", "department": "legal", "clearance": 5}})
}

test_no_read_at_night if {
	not abac.allow with input as request({"time": "2026-11-27T22:00:00Z"})
}

test_no_read_on_weekends if {
	not abac.allow with input as request({"time": "2026-11-28T10:30:00Z"})
}

test_no_read_from_outside_networks if {
	not abac.allow with input as request({"ip": "203.0.113.7"})
}

test_public_documents_for_anyone if {
	abac.allow with input as request({
		"user": {"id": "guest", "department": "none", "clearance": 0},
		"resource": {"id": "r9", "department": "finance", "classification": 4, "public": true},
		"ip": "203.0.113.7",
		"time": "2026-11-28T23:00:00Z",
	})
}

test_editors_update if {
	abac.allow with input as request({"action": "update"})
}

test_readers_do_not_update if {
	not abac.allow with input as request({
		"action": "update",
		"user": {"id": "cy", "department": "finance", "clearance": 3},
	})
}
