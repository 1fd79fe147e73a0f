package api

import (
	"net/http"
	"strconv"
	"strings"
)

// The OpenAPI 3.1 document of /api/v1 (SPEC 9.4), served without a token
// at GET /api/v1/openapi.json. Its operations are listed here, apart from
// the route table (routes.go), and a test holds the two to each other both
// ways and validates real responses against the document.

// opDoc describes one operation.
type opDoc struct {
	method, path, summary, tag string
	query                      []string // query parameters (strings)
	body                       string   // request schema; "csv" for text/csv; "" none
	status                     int      // success status
	resp                       string   // response schema; "" no body; "csv" text/csv
	public                     bool     // no token
}

var operations = []opDoc{
	{"POST", "/api/v1/releases", "Create a release", "releases", nil, "ReleaseInput", 201, "Release", false},
	{"GET", "/api/v1/releases", "List releases, newest first", "releases", []string{"topic", "region", "lang", "status", "cursor", "limit"}, "", 200, "ReleaseList", false},
	{"GET", "/api/v1/releases/{id}", "Read a release", "releases", nil, "", 200, "Release", false},
	{"PATCH", "/api/v1/releases/{id}", "Change a release (only the fields given)", "releases", nil, "ReleaseInput", 200, "Release", false},
	{"DELETE", "/api/v1/releases/{id}", "Delete a release", "releases", nil, "", 204, "", false},
	{"POST", "/api/v1/releases/{id}/media", "Add an image (JPEG, PNG, WebP, GIF; 10 MB) or a PDF (20 MB) to a release; the type is judged by content", "releases", nil, "upload", 201, "Media", false},
	{"DELETE", "/api/v1/releases/{id}/media/{media_id}", "Remove a medium of a release", "releases", nil, "", 204, "", false},
	{"POST", "/api/v1/releases/{id}/alert", "Send a release to its audience now (or count, or send a test copy)", "alerts", nil, "AlertRequest", 202, "AlertResult", false},
	{"GET", "/api/v1/alerts/{id}", "Follow an alert's delivery", "alerts", nil, "", 200, "Alert", false},
	{"POST", "/api/v1/digests/{cadence}/run", "Send the daily or weekly digest now", "alerts", nil, "DigestRequest", 202, "DigestResult", false},
	{"GET", "/api/v1/taxonomy", "Topics and regions", "taxonomy", nil, "", 200, "Taxonomy", false},
	{"POST", "/api/v1/topics", "Add a topic", "taxonomy", nil, "TermInput", 201, "Term", false},
	{"POST", "/api/v1/regions", "Add a region", "taxonomy", nil, "TermInput", 201, "Term", false},
	{"GET", "/api/v1/subscribers", "List subscribers", "subscribers", []string{"status", "topic", "region", "cursor", "limit"}, "", 200, "SubscriberList", false},
	{"POST", "/api/v1/subscribers", "Add a subscriber", "subscribers", nil, "SubscriberInput", 201, "Subscriber", false},
	{"GET", "/api/v1/subscribers/{id}", "Read a subscriber", "subscribers", nil, "", 200, "Subscriber", false},
	{"PATCH", "/api/v1/subscribers/{id}", "Change a subscriber", "subscribers", nil, "SubscriberInput", 200, "Subscriber", false},
	{"DELETE", "/api/v1/subscribers/{id}", "Erase a subscriber (a hash of the address stays on the suppression list)", "subscribers", nil, "", 204, "", false},
	{"POST", "/api/v1/subscribers/import", "Import subscribers from CSV", "subscribers", nil, "csv", 200, "ImportResult", false},
	{"GET", "/api/v1/subscribers/export", "Export subscribers as CSV", "subscribers", nil, "", 200, "csv", false},
	{"GET", "/api/v1/stats", "Subscribers, messages and releases by state", "stats", nil, "", 200, "Stats", false},
	{"POST", "/api/v1/webhooks", "Register a webhook (its secret is shown once)", "webhooks", nil, "WebhookInput", 201, "Webhook", false},
	{"GET", "/api/v1/webhooks", "List webhooks", "webhooks", nil, "", 200, "WebhookList", false},
	{"GET", "/api/v1/webhooks/{id}", "Read a webhook", "webhooks", nil, "", 200, "Webhook", false},
	{"PATCH", "/api/v1/webhooks/{id}", "Change a webhook", "webhooks", nil, "WebhookInput", 200, "Webhook", false},
	{"DELETE", "/api/v1/webhooks/{id}", "Delete a webhook", "webhooks", nil, "", 204, "", false},
	{"GET", "/api/v1/webhooks/{id}/deliveries", "A webhook's deliveries with every attempt", "webhooks", []string{"cursor", "limit"}, "", 200, "DeliveryList", false},
	{"GET", "/api/v1/me", "Who is calling: kind (staff, token, admin-token), id, email, name, role", "staff", nil, "", 200, "Me", false},
	{"GET", "/api/v1/staff", "List staff members", "staff", nil, "", 200, "StaffList", false},
	{"POST", "/api/v1/staff", "Invite a staff member (an invitation mail with a set-password link)", "staff", nil, "StaffInput", 201, "StaffMember", false},
	{"GET", "/api/v1/staff/{id}", "Read a staff member", "staff", nil, "", 200, "StaffMember", false},
	{"PATCH", "/api/v1/staff/{id}", "Change a staff member's name, role or state", "staff", nil, "StaffInput", 200, "StaffMember", false},
	{"DELETE", "/api/v1/staff/{id}", "Disable a staff member: sessions and tokens end at once", "staff", nil, "", 200, "StaffMember", false},
	{"POST", "/api/v1/tokens", "Make a personal API token (shown once; role at most the maker's)", "staff", nil, "TokenInput", 201, "Token", false},
	{"GET", "/api/v1/tokens", "List tokens (one's own; an admin sees all), never their secret", "staff", nil, "", 200, "TokenList", false},
	{"DELETE", "/api/v1/tokens/{id}", "Revoke a token", "staff", nil, "", 204, "", false},
	{"GET", "/api/v1/audit", "The audit log, newest first", "audit", []string{"actor", "action", "since", "until", "cursor", "limit"}, "", 200, "AuditList", false},
	{"GET", "/api/v1/audit.csv", "The audit log as CSV", "audit", []string{"actor", "action", "since", "until"}, "", 200, "csv", false},
	{"GET", "/api/v1/bounces", "Bounces and complaints, newest first (SPEC 8.3)", "bounces", []string{"kind", "source", "since", "cursor", "limit"}, "", 200, "BounceList", false},
	{"POST", "/api/v1/sources", "Add an ingest source", "sources", nil, "SourceInput", 201, "Source", false},
	{"GET", "/api/v1/sources", "List ingest sources", "sources", nil, "", 200, "SourceList", false},
	{"GET", "/api/v1/sources/{id}", "Read an ingest source", "sources", nil, "", 200, "Source", false},
	{"PATCH", "/api/v1/sources/{id}", "Change an ingest source", "sources", nil, "SourceInput", 200, "Source", false},
	{"DELETE", "/api/v1/sources/{id}", "Delete an ingest source (its releases stay)", "sources", nil, "", 204, "", false},
	{"POST", "/api/v1/sources/{id}/run", "Poll an ingest source now", "sources", nil, "", 200, "SourceRun", false},
	{"GET", "/api/v1/sources/{id}/runs", "An ingest source's polls, newest first", "sources", []string{"limit"}, "", 200, "SourceRunList", false},
	{"GET", "/api/v1/openapi.json", "This document", "meta", nil, "", 200, "Object", true},
}

type obj = map[string]any

func str() obj                { return obj{"type": "string"} }
func nullable(t string) obj   { return obj{"type": []string{t, "null"}} }
func integer() obj            { return obj{"type": "integer"} }
func boolean() obj            { return obj{"type": "boolean"} }
func strings_() obj           { return obj{"type": "array", "items": str()} }
func ref(name string) obj     { return obj{"$ref": "#/components/schemas/" + name} }
func arrayOf(name string) obj { return obj{"type": "array", "items": ref(name)} }
func object(props obj, required ...string) obj {
	o := obj{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}
func list(item string) obj {
	return object(obj{"items": arrayOf(item), "next_cursor": str()}, "items")
}

// schemas are the request and response bodies, as the handlers write them.
func schemas() obj {
	contact := object(obj{"name": str(), "email": str(), "phone": str()})
	return obj{
		"Object": obj{"type": "object"},
		"Error":  object(obj{"error": str(), "field": str()}, "error", "field"),
		"Release": object(obj{"id": str(), "title": str(), "summary": str(), "body": str(), "body_format": str(),
			"body_html": str(), "url": str(), "slug": str(), "dateline": str(), "language": str(), "translation_key": str(),
			"topics": strings_(), "regions": strings_(), "contacts": obj{"type": "array", "items": contact},
			"media": arrayOf("Media"), "published_at": str(), "status": obj{"enum": []string{"draft", "published"}}, "live": boolean(), "live_at": nullable("string"),
			"created_at": str(), "updated_at": str()}, "id", "title", "topics", "regions", "status", "published_at"),
		"ReleaseInput": object(obj{"title": str(), "summary": str(), "body": str(), "body_format": obj{"enum": []string{"markdown", "html"}},
			"url": str(), "slug": str(), "dateline": str(), "language": str(), "translation_key": str(),
			"topics": obj{"type": []string{"array", "string"}}, "regions": obj{"type": []string{"array", "string"}},
			"contacts": obj{"type": "array", "items": contact}, "published_at": str(), "status": obj{"enum": []string{"draft", "published"}}}),
		"ReleaseList": list("Release"),
		"Media": object(obj{"id": str(), "kind": obj{"enum": []string{"image", "pdf"}}, "url": str(), "type": str(), "bytes": integer(),
			"width": integer(), "height": integer(), "alt": str(), "caption": str(), "credit": str(), "name": str(), "position": integer(),
			"display_url": str(), "display_type": str(), "display_bytes": integer(), "display_width": integer(), "display_height": integer()},
			"id", "url", "type", "bytes", "width", "height", "alt", "caption", "credit"),
		"AlertRequest": object(obj{"audience": obj{"enum": []string{"matching", "immediate"}}, "dry_run": boolean(), "test_to": str()}),
		"AlertResult":  object(obj{"alert_id": str(), "recipients": integer(), "dry_run": boolean()}, "recipients"),
		"Alert": object(obj{"id": str(), "release_id": str(), "recipients": integer(), "queued": integer(), "sent": integer(),
			"failed": integer(), "created_at": str(), "finished_at": nullable("string")}, "id", "release_id"),
		"DigestRequest": object(obj{"dry_run": boolean()}),
		"DigestResult":  object(obj{"run_id": str(), "recipients": integer(), "dry_run": boolean()}, "recipients"),
		"Term":          object(obj{"slug": str(), "name": str(), "names": obj{"type": "object"}, "parent": str()}, "slug", "name"),
		"TermInput":     object(obj{"slug": str(), "name": str(), "names": obj{"type": "object"}, "parent": str()}, "slug", "name"),
		"Taxonomy":      object(obj{"topics": arrayOf("Term"), "regions": arrayOf("Term")}, "topics", "regions"),
		"Subscriber": object(obj{"id": str(), "email": str(), "status": obj{"enum": []string{"pending", "active", "unsubscribed", "bounced"}},
			"topics": strings_(), "regions": strings_(), "language": str(), "cadence": str(), "timezone": str(),
			"created_at": str(), "updated_at": str(), "confirmed_at": nullable("string"), "unsubscribed_at": nullable("string"),
			"bounced_at": nullable("string"), "consent": obj{"type": []string{"object", "null"}}}, "id", "email", "status"),
		"SubscriberInput": object(obj{"email": str(), "topics": obj{"type": []string{"array", "string"}}, "regions": obj{"type": []string{"array", "string"}},
			"language": str(), "cadence": str(), "timezone": str(), "status": str(), "confirmed": boolean()}),
		"SubscriberList": list("Subscriber"),
		"ImportResult": object(obj{"added": integer(), "updated": integer(), "skipped": integer(),
			"errors": obj{"type": "array", "items": object(obj{"line": integer(), "error": str()})}}, "added", "updated", "skipped", "errors"),
		"Stats":       obj{"type": "object"},
		"Me":          obj{"type": "object"},
		"StaffMember": obj{"type": "object"},
		"StaffInput":  obj{"type": "object"},
		"StaffList":   object(obj{"items": arrayOf("StaffMember")}, "items"),
		"Token":       obj{"type": "object"},
		"TokenInput":  obj{"type": "object"},
		"TokenList":   object(obj{"items": arrayOf("Token")}, "items"),
		"AuditList":   obj{"type": "object"},
		"Bounce": object(obj{"id": str(), "at": str(), "subscriber_id": nullable("string"), "email": str(),
			"kind": obj{"enum": []string{"hard", "soft", "complaint"}}, "source": obj{"enum": []string{"smtp", "mailbox", "ses", "postmark", "sendgrid", "mailgun"}},
			"message_id": str(), "diagnostic": str()}, "id", "at", "subscriber_id", "email", "kind", "source", "message_id", "diagnostic"),
		"BounceList": list("Bounce"),
		"Webhook": object(obj{"id": str(), "url": str(), "events": strings_(), "description": str(), "active": boolean(),
			"secret":     obj{"type": "string", "description": "whsec_<base64>; only in the answer to POST"},
			"created_at": str(), "updated_at": str()}, "id", "url", "events", "active"),
		"WebhookInput": object(obj{"url": str(), "events": strings_(), "description": str(), "active": boolean()}),
		"WebhookList":  object(obj{"items": arrayOf("Webhook")}, "items"),
		"Delivery": object(obj{"id": str(), "msg_id": str(), "type": str(), "state": obj{"enum": []string{"queued", "sending", "delivered", "failed"}},
			"attempts":        obj{"type": "array", "items": object(obj{"at": str(), "status": integer(), "error": str(), "duration_ms": integer()})},
			"next_attempt_at": nullable("string"), "last_status": integer(), "last_error": str(), "created_at": str(),
			"delivered_at": nullable("string"), "payload": obj{"type": "object"}}, "id", "msg_id", "type", "state", "attempts"),
		"DeliveryList": list("Delivery"),
		"Source": object(obj{"id": str(), "url": str(), "mode": obj{"enum": []string{"draft", "publish"}}, "language": str(),
			"topics": strings_(), "regions": strings_(), "category_map": obj{"type": "object", "additionalProperties": str()},
			"interval": str(), "translation_key_from": obj{"enum": []string{"none", "link"}}, "enabled": boolean(), "next_run_at": str(),
			"last_run_at": nullable("string"), "failures": integer(), "last_error": str(), "created_at": str(), "updated_at": str()},
			"id", "url", "mode"),
		"SourceInput": object(obj{"url": str(), "mode": obj{"enum": []string{"draft", "publish"}}, "language": str(),
			"topics": obj{"type": []string{"array", "string"}}, "regions": obj{"type": []string{"array", "string"}},
			"category_map": obj{"type": "object", "additionalProperties": str()}, "interval": str(),
			"translation_key_from": obj{"enum": []string{"none", "link"}}, "enabled": boolean()}),
		"SourceList": object(obj{"items": arrayOf("Source")}, "items"),
		"SourceRun": object(obj{"id": str(), "started_at": str(), "finished_at": str(), "status": obj{"enum": []string{"ok", "not_modified", "error"}},
			"new": integer(), "updated": integer(), "unchanged": integer(), "skipped": integer(), "error": str()}, "id", "status"),
		"SourceRunList": object(obj{"items": arrayOf("SourceRun")}, "items"),
	}
}

// document builds the OpenAPI document of the operations ops.
func document(baseURL string, ops []opDoc) obj {
	paths := obj{}
	errResp := func(desc string) obj {
		return obj{"description": desc, "content": obj{"application/json": obj{"schema": ref("Error")}}}
	}
	for _, o := range ops {
		item, _ := paths[o.path].(obj)
		if item == nil {
			item = obj{}
			paths[o.path] = item
		}
		op := obj{"summary": o.summary, "tags": []string{o.tag}, "operationId": opID(o)}
		var params []obj
		for _, seg := range strings.Split(o.path, "/") {
			if strings.HasPrefix(seg, "{") {
				name := strings.Trim(seg, "{}")
				params = append(params, obj{"name": name, "in": "path", "required": true, "schema": str()})
			}
		}
		for _, q := range o.query {
			params = append(params, obj{"name": q, "in": "query", "required": false, "schema": str()})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		switch o.body {
		case "":
		case "csv":
			op["requestBody"] = obj{"required": true, "content": obj{"text/csv": obj{"schema": str()},
				"multipart/form-data": obj{"schema": object(obj{"file": obj{"type": "string", "contentMediaType": "text/csv"}})}}}
		case "upload":
			op["requestBody"] = obj{"required": true, "content": obj{"multipart/form-data": obj{"schema": object(obj{
				"file":    obj{"type": "string", "contentMediaType": "application/octet-stream", "description": "the image or PDF"},
				"alt":     obj{"type": "string", "maxLength": 500, "description": "text alternative of an image"},
				"caption": obj{"type": "string", "maxLength": 1000},
				"credit":  obj{"type": "string", "maxLength": 200},
			}, "file")}}}
		default:
			op["requestBody"] = obj{"required": o.method == "POST", "content": obj{"application/json": obj{"schema": ref(o.body)}}}
		}
		ok := obj{"description": http.StatusText(o.status)}
		switch o.resp {
		case "":
		case "csv":
			ok["content"] = obj{"text/csv": obj{"schema": str()}}
		default:
			ok["content"] = obj{"application/json": obj{"schema": ref(o.resp)}}
		}
		resps := obj{strconv.Itoa(o.status): ok}
		if o.public {
			op["security"] = []obj{}
		} else {
			resps["401"] = errResp("missing or wrong token")
			resps["default"] = errResp("an error: 400 malformed, 404, 409 conflict, 413 body too large, 415 unsupported media type, 422 invalid field, 429, 503")
		}
		op["responses"] = resps
		item[strings.ToLower(o.method)] = op
	}
	return obj{
		"openapi": "3.1.0",
		"info": obj{"title": "herald admin API", "version": "1",
			"description": "The admin JSON API of herald (SPEC 3, 7, 9). Every route but this document needs Authorization: Bearer <token>."},
		"servers":    []obj{{"url": baseURL}},
		"security":   []obj{{"bearer": []string{}}},
		"paths":      paths,
		"components": obj{"schemas": schemas(), "securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer"}}},
	}
}

func opID(o opDoc) string {
	id := strings.ToLower(o.method)
	for _, seg := range strings.Split(strings.TrimPrefix(o.path, "/api/v1/"), "/") {
		seg = strings.Trim(seg, "{}")
		seg = strings.ReplaceAll(strings.ReplaceAll(seg, ".", "_"), "-", "_")
		id += "_" + seg
	}
	return id
}

// served returns the operations of the routes this API serves.
func (a *API) served() []opDoc {
	on := map[string]bool{}
	for _, r := range a.Routes() {
		on[r.Method+" "+r.Path] = true
	}
	var out []opDoc
	for _, o := range operations {
		if on[o.method+" "+o.path] {
			out = append(out, o)
		}
	}
	return out
}

// openAPI answers GET /api/v1/openapi.json (built once).
func (a *API) openAPI(w http.ResponseWriter, r *http.Request) error {
	a.docOnce.Do(func() {
		base := a.baseURL
		if base == "" {
			base = "/"
		}
		a.doc = document(base, a.served())
	})
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, a.doc)
	return nil
}
