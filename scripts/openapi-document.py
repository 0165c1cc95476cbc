#!/usr/bin/env python3
"""Writes Sources/WebAPI/OpenAPIDocument.swift: the OpenAPI 3.1 document of the HTTP API, written
here as Python data because JSON Schema is easier to keep right that way. Run after changing an
endpoint; the router test and the schemathesis interop test check the served document."""
import json
import os
err = {"$ref": "#/components/schemas/Errors"}
def JSON(schema): return {"application/json": {"schema": schema}}
SANDBOX = {"type": "object", "required": ["id", "from_email", "to", "subject", "created", "size", "raw"], "properties": {"id": {"type": "string"},
           "from_email": {"type": "string"}, "to": {"type": "array", "items": {"type": "string"}}, "subject": {"type": "string"},
           "created": {"type": "string"}, "size": {"type": "integer"}, "raw": {"type": "string"}}}
LISTS = ["bounces", "blocks", "spam_reports", "invalid_emails", "unsubscribes"]
SUPPRESSION = {"type": "object", "required": ["created", "email"], "properties": {"created": {"type": "integer"}, "email": {"type": "string"},
               "reason": {"type": "string"}, "status": {"type": "string"}, "ip": {"type": "string"}}}
RECIPIENTS = {"type": "object", "required": ["recipient_emails"], "properties": {"recipient_emails": {"type": "array", "minItems": 1, "maxItems": 1000,
              "items": {"type": "string", "format": "email"}}}}
GROUP = {"type": "object", "required": ["id", "name", "description", "is_default"], "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
         "description": {"type": "string"}, "is_default": {"type": "boolean"}, "unsubscribes": {"type": "integer"}}}
FLAGS = ["processed", "delivered", "deferred", "bounce", "dropped", "open", "click", "unsubscribe", "group_unsubscribe", "group_resubscribe", "spam_report"]
WEBHOOK = {"type": "object", "required": ["id", "enabled", "url", "friendly_name", "created_date", "updated_date", "public_key"] + FLAGS,
           "properties": dict({"id": {"type": "string"}, "enabled": {"type": "boolean"}, "url": {"type": "string"},
                               "friendly_name": {"type": ["string", "null"]}, "created_date": {"type": "string"}, "updated_date": {"type": "string"},
                               "public_key": {"type": "string"}}, **{f: {"type": "boolean"} for f in FLAGS})}
WEBHOOK_SETTINGS = {"type": "object", "properties": dict({"enabled": {"type": "boolean"}, "url": {"type": "string", "format": "uri"},
                    "friendly_name": {"type": "string", "maxLength": 100}}, **{f: {"type": "boolean"} for f in FLAGS})}
WEBHOOK_SETTINGS_NEW = dict(WEBHOOK_SETTINGS, required=["url"])
SIGNED = {"type": "object", "required": ["id", "public_key"], "properties": {"id": {"type": "string"}, "public_key": {"type": "string"}}}
METRICS = ["blocks", "bounce_drops", "bounces", "clicks", "deferred", "delivered", "invalid_emails", "opens", "processed", "requests",
           "spam_report_drops", "spam_reports", "unique_clicks", "unique_opens", "unsubscribe_drops", "unsubscribes"]
VERSION = {"type": "object", "required": ["id", "template_id", "name", "subject", "html_content", "plain_content", "active", "updated_at"],
           "properties": {"id": {"type": "string"}, "template_id": {"type": "string"}, "name": {"type": "string"}, "subject": {"type": "string"},
                          "html_content": {"type": "string"}, "plain_content": {"type": "string"}, "active": {"type": "integer", "enum": [0, 1]},
                          "updated_at": {"type": "string"}}}
VERSION_BODY = {"type": "object", "description": "null or absent: the version's current value (a new version: empty, active 1)",
                "properties": {"name": {"type": ["string", "null"], "minLength": 1, "maxLength": 100}, "subject": {"type": ["string", "null"]},
                "html_content": {"type": ["string", "null"]}, "plain_content": {"type": ["string", "null"]},
                "active": {"type": ["integer", "null"], "enum": [0, 1, None]}}}
TEMPLATE = {"type": "object", "required": ["id", "name", "generation", "updated_at", "versions"],
            "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "generation": {"type": "string", "enum": ["dynamic", "legacy"]},
                           "updated_at": {"type": "string"}, "versions": {"type": "array", "items": VERSION}}}
TEMPLATE_NEW = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100},
                "generation": {"type": ["string", "null"], "enum": ["dynamic", "legacy", None], "description": "null or absent: dynamic"}}}
OPEN_SETTING = {"type": "object", "properties": {"enabled": {"type": ["boolean", "null"]}}}
CLICK_SETTING = {"type": "object", "properties": {"enabled": {"type": ["boolean", "null"]}, "enable_text": {"type": ["boolean", "null"]}}}
SUBSCRIPTION_SETTING = {"type": "object", "properties": {"enabled": {"type": ["boolean", "null"]}, "html_content": {"type": ["string", "null"]},
                        "plain_content": {"type": ["string", "null"]}, "replace": {"type": ["string", "null"]}}}
def errresp(desc): return {"description": desc, "content": {"application/json": {"schema": err}}}
rl = {"X-RateLimit-Limit": {"schema": {"type": "string"}}, "X-RateLimit-Remaining": {"schema": {"type": "string"}}, "X-RateLimit-Reset": {"schema": {"type": "string"}}}
common = {"401": errresp("Missing, malformed, unknown or revoked key"), "403": errresp("The key lacks the scope"), "429": errresp("Too many failed authentications")}
addr = {"type": "object", "required": ["email"], "properties": {"email": {"type": "string", "format": "email"}, "name": {"type": "string"}}}
strmap = {"type": "object", "additionalProperties": {"type": "string"}}
setting = {"type": "object", "properties": {"enable": {"type": "boolean"}}}
doc = {
 "openapi": "3.1.0",
 "info": {"title": "Tern HTTP API", "version": "1.0.0",
          "description": "SendGrid's v3 wire format, served by Tern. Authenticate with `Authorization: Bearer <API key>` (`tern key create`). SendGrid's cross-field rules (a subject in the request or in every personalization, an address only once across to, cc and bcc, send_at at most 72 hours ahead, the sender's domain) are not expressible in JSON Schema: a request valid here may still get a 400 or 403 naming the field."},
 "servers": [{"url": "/"}],
 "security": [{"bearer": []}],
 "paths": {
  "/v3/openapi.json": {"get": {"operationId": "openapi", "security": [], "summary": "This document",
      "responses": {"200": {"description": "The OpenAPI document", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
  "/metrics": {"get": {"operationId": "metrics", "security": [], "summary": "Prometheus metrics (text format 0.0.4); off with [http] metrics = false",
      "responses": {"200": {"description": "Every counter, meter and histogram, and the queue and webhook backlog read at scrape time",
                            "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
  "/v3/mail/send": {"post": {"operationId": "mailSend", "summary": "Send mail (scope mail.send)",
      "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MailSend"}}}},
      "responses": dict({
        "202": {"description": "Every message is queued durably", "headers": dict(rl, **{"X-Message-Id": {"schema": {"type": "string"}}})},
        "200": {"description": "Sandbox mode: valid, nothing sent", "headers": rl},
        "400": errresp("Validation errors, every one with its field"),
        "413": errresp("Body over 30 MB or over the plan's message size"),
        "415": errresp("Content-Encoding other than gzip"),
        "503": errresp("Storage trouble; try again"),
      }, **common)}},
  "/v3/messages": {"get": {"operationId": "listMessages", "summary": "Recipients of the account's messages, newest first (scope messages.read)",
      "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                     {"name": "query", "in": "query", "description": 'Conditions KEY="VALUE" joined by AND; keys to_email, from_email, subject, status (processed, delivered, not_delivered), msg_id',
                      "schema": {"type": "string", "maxLength": 2048}}],
      "responses": dict({"200": {"description": "Recipients", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MessageList"}}}},
                         "400": errresp("Bad limit or query")}, **common)}},
  "/v3/messages/{msg_id}": {
    "parameters": [{"name": "msg_id", "in": "path", "required": True, "schema": {"type": "string"}}],
    "get": {"operationId": "getMessage", "summary": "One recipient with its events in order (scope messages.read)",
      "responses": dict({"200": {"description": "The recipient", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MessageDetail"}}}},
                         "404": errresp("No such message of this account")}, **common)}},
  "/v3/stats": {"get": {"operationId": "getStats", "summary": "Metrics per day, week or month, counted from events (scope stats.read)",
      "parameters": [{"name": "start_date", "in": "query", "required": True, "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}},
                     {"name": "end_date", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}},
                     {"name": "aggregated_by", "in": "query", "schema": {"type": "string", "enum": ["day", "week", "month"]}}],
      "responses": dict({"200": {"description": "One entry per period", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/StatsPeriod"}}}}},
                         "400": errresp("Bad dates or aggregation")}, **common)}},
  "/v3/categories/stats": {"get": {"operationId": "getCategoryStats", "summary": "The same metrics per category (scope stats.read)",
      "parameters": [{"name": "start_date", "in": "query", "required": True, "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}},
                     {"name": "end_date", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}},
                     {"name": "aggregated_by", "in": "query", "schema": {"type": "string", "enum": ["day", "week", "month"]}},
                     {"name": "categories", "in": "query", "required": True, "style": "form", "explode": True,
                      "schema": {"type": "array", "minItems": 1, "maxItems": 10, "items": {"type": "string"}}}],
      "responses": dict({"200": {"description": "One entry per period, one stats entry per category", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/StatsPeriod"}}}}},
                         "400": errresp("Bad dates, aggregation or categories")}, **common)}},
  "/v3/user/webhooks/event/settings": {
    "get": {"operationId": "getEventWebhook", "summary": "The account's first event webhook (SendGrid's single-webhook form)",
      "responses": dict({"200": {"description": "The webhook (disabled and empty when there is none)", "content": JSON(WEBHOOK)}}, **common)},
    "patch": {"operationId": "patchEventWebhook", "summary": "Change the first webhook, or make it",
      "requestBody": {"required": True, "content": JSON(WEBHOOK_SETTINGS)},
      "responses": dict({"200": {"description": "The webhook", "content": JSON(WEBHOOK)}, "201": {"description": "Made", "content": JSON(WEBHOOK)},
                         "400": errresp("Bad URL or settings"), "413": errresp("Body too large"), "415": errresp("Unsupported encoding")}, **common)},
    "post": {"operationId": "createEventWebhook", "summary": "Add an event webhook (scope webhooks)",
      "requestBody": {"required": True, "content": JSON(WEBHOOK_SETTINGS_NEW)},
      "responses": dict({"201": {"description": "The webhook", "content": JSON(WEBHOOK)},
                         "400": errresp("Bad URL (not http(s), or resolving to a private address) or too many webhooks"),
                         "413": errresp("Body too large"), "415": errresp("Unsupported encoding")}, **common)}},
  "/v3/user/webhooks/event/settings/all": {"get": {"operationId": "listEventWebhooks", "summary": "Every event webhook of the account",
      "responses": dict({"200": {"description": "Webhooks", "content": JSON({"type": "object", "required": ["max_allowed", "webhooks"],
          "properties": {"max_allowed": {"type": "integer"}, "webhooks": {"type": "array", "items": WEBHOOK}}})}}, **common)}},
  "/v3/user/webhooks/event/settings/{id}": {
    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
    "get": {"operationId": "getEventWebhookById", "summary": "One webhook",
      "responses": dict({"200": {"description": "The webhook", "content": JSON(WEBHOOK)}, "404": errresp("No such webhook of this account")}, **common)},
    "patch": {"operationId": "updateEventWebhook", "summary": "Change a webhook's settings",
      "requestBody": {"required": True, "content": JSON(WEBHOOK_SETTINGS)},
      "responses": dict({"200": {"description": "The webhook", "content": JSON(WEBHOOK)}, "400": errresp("Bad URL or settings"),
                         "404": errresp("No such webhook"), "413": errresp("Body too large"), "415": errresp("Unsupported encoding")}, **common)},
    "delete": {"operationId": "deleteEventWebhook", "summary": "Remove a webhook",
      "responses": dict({"204": {"description": "Removed"}, "404": errresp("No such webhook")}, **common)}},
  "/v3/user/webhooks/event/settings/signed/{id}": {
    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
    "get": {"operationId": "getSignedEventWebhook", "summary": "The public key batches are verified with (empty when unsigned)",
      "responses": dict({"200": {"description": "The key", "content": JSON(SIGNED)}, "404": errresp("No such webhook")}, **common)},
    "patch": {"operationId": "setSignedEventWebhook", "summary": "Sign with a new key, or stop signing",
      "requestBody": {"required": True, "content": JSON({"type": "object", "required": ["enabled"], "properties": {"enabled": {"type": "boolean"}}})},
      "responses": dict({"200": {"description": "The key", "content": JSON(SIGNED)}, "400": errresp("enabled missing"), "404": errresp("No such webhook"),
                         "413": errresp("Body too large"), "415": errresp("Unsupported encoding")}, **common)}},
  "/v3/user/webhooks/event/test": {"post": {"operationId": "testEventWebhook", "summary": "Send one sample event to a webhook or URL",
      "requestBody": {"required": True, "content": JSON({"type": "object", "properties": {"id": {"type": "string"}, "url": {"type": "string"}}})},
      "responses": dict({"204": {"description": "The receiver answered 2xx"}, "400": errresp("No URL, a refused URL, or the receiver failed"),
                         "404": errresp("No such webhook"), "413": errresp("Body too large"), "415": errresp("Unsupported encoding")}, **common)}},
  "/v3/suppression/{list}": {
    "parameters": [{"name": "list", "in": "path", "required": True, "schema": {"type": "string", "enum": LISTS}}],
    "get": {"operationId": "listSuppressions", "summary": "One global list, newest first (scope suppressions)",
      "parameters": [{"name": "start_time", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 2147483647}},
                     {"name": "end_time", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 2147483647}},
                     {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                     {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 1000000}},
                     {"name": "email", "in": "query", "schema": {"type": "string"}}],
      "responses": dict({"200": {"description": "Entries", "content": JSON({"type": "array", "items": SUPPRESSION})}, "400": errresp("Bad parameters"),
                         "404": errresp("No such list")}, **common)},
    "delete": {"operationId": "deleteSuppressions", "summary": "Remove some entries, or all",
      "requestBody": {"required": True, "content": JSON({"type": "object", "properties": {"delete_all": {"type": "boolean"},
          "emails": {"type": "array", "maxItems": 1000, "items": {"type": "string"}}}})},
      "responses": dict({"204": {"description": "Removed"}, "400": errresp("Neither delete_all nor emails"), "404": errresp("No such list"),
                         "413": errresp("Body too large"), "415": errresp("Unsupported encoding")}, **common)}},
  "/v3/suppression/{list}/{email}": {
    "parameters": [{"name": "list", "in": "path", "required": True, "schema": {"type": "string", "enum": LISTS}},
                   {"name": "email", "in": "path", "required": True, "schema": {"type": "string"}}],
    "get": {"operationId": "getSuppression", "summary": "One address's entry (an empty array when it is not listed)",
      "responses": dict({"200": {"description": "Entries", "content": JSON({"type": "array", "items": SUPPRESSION})}, "404": errresp("No such list")}, **common)},
    "delete": {"operationId": "deleteSuppression", "summary": "Take an address off the list",
      "responses": dict({"204": {"description": "Removed"}, "404": errresp("Not listed")}, **common)}},
  "/v3/asm/suppressions/global": {"post": {"operationId": "addGlobalUnsubscribes", "summary": "Unsubscribe addresses from everything",
      "requestBody": {"required": True, "content": JSON(RECIPIENTS)},
      "responses": dict({"201": {"description": "Added", "content": JSON(RECIPIENTS)}, "400": errresp("Bad addresses"),
                         "413": errresp("Body too large"), "415": errresp("Unsupported encoding")}, **common)}},
  "/v3/asm/suppressions/global/{email}": {
    "parameters": [{"name": "email", "in": "path", "required": True, "schema": {"type": "string"}}],
    "get": {"operationId": "getGlobalUnsubscribe", "summary": "{recipient_email} when unsubscribed, {} otherwise",
      "responses": dict({"200": {"description": "The entry", "content": JSON({"type": "object", "properties": {"recipient_email": {"type": "string"}}})},
                         "404": errresp("Bad address")}, **common)},
    "delete": {"operationId": "deleteGlobalUnsubscribe", "summary": "Subscribe an address again",
      "responses": dict({"204": {"description": "Removed"}, "404": errresp("Bad address")}, **common)}},
  "/v3/asm/groups": {
    "get": {"operationId": "listGroups", "summary": "Suppression groups",
      "responses": dict({"200": {"description": "Groups", "content": JSON({"type": "array", "items": GROUP})}}, **common)},
    "post": {"operationId": "createGroup", "summary": "A new suppression group",
      "requestBody": {"required": True, "content": JSON({"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 30},
          "description": {"type": ["string", "null"], "maxLength": 100}, "is_default": {"type": ["boolean", "null"]}}})},
      "responses": dict({"201": {"description": "The group", "content": JSON(GROUP)}, "400": errresp("Bad name or too many groups"),
                         "413": errresp("Body too large"), "415": errresp("Unsupported encoding")}, **common)}},
  "/v3/asm/groups/{group}": {
    "parameters": [{"name": "group", "in": "path", "required": True, "schema": {"type": "integer"}}],
    "get": {"operationId": "getGroup", "summary": "One group",
      "responses": dict({"200": {"description": "The group", "content": JSON(GROUP)}, "404": errresp("No such group")}, **common)},
    "patch": {"operationId": "updateGroup", "summary": "Change a group",
      "requestBody": {"required": True, "content": JSON({"type": "object", "properties": {"name": {"type": ["string", "null"], "minLength": 1, "maxLength": 30},
          "description": {"type": ["string", "null"], "maxLength": 100}, "is_default": {"type": ["boolean", "null"]}}})},
      "responses": dict({"200": {"description": "The group", "content": JSON(GROUP)}, "400": errresp("Bad name"), "404": errresp("No such group"),
                         "413": errresp("Body too large"), "415": errresp("Unsupported encoding")}, **common)},
    "delete": {"operationId": "deleteGroup", "summary": "Remove a group and its unsubscribes",
      "responses": dict({"204": {"description": "Removed"}, "404": errresp("No such group")}, **common)}},
  "/v3/asm/groups/{group}/suppressions": {
    "parameters": [{"name": "group", "in": "path", "required": True, "schema": {"type": "integer"}}],
    "get": {"operationId": "listGroupSuppressions", "summary": "The group's unsubscribed addresses",
      "responses": dict({"200": {"description": "Addresses", "content": JSON({"type": "array", "items": {"type": "string"}})}, "404": errresp("No such group")}, **common)},
    "post": {"operationId": "addGroupSuppressions", "summary": "Unsubscribe addresses from the group",
      "requestBody": {"required": True, "content": JSON(RECIPIENTS)},
      "responses": dict({"201": {"description": "Added", "content": JSON(RECIPIENTS)}, "400": errresp("Bad addresses"), "404": errresp("No such group"),
                         "413": errresp("Body too large"), "415": errresp("Unsupported encoding")}, **common)}},
  "/v3/asm/groups/{group}/suppressions/{email}": {
    "parameters": [{"name": "group", "in": "path", "required": True, "schema": {"type": "integer"}},
                   {"name": "email", "in": "path", "required": True, "schema": {"type": "string"}}],
    "delete": {"operationId": "deleteGroupSuppression", "summary": "Subscribe an address to the group again",
      "responses": dict({"204": {"description": "Removed"}, "404": errresp("No such group")}, **common)}},
  "/v3/templates": {
    "get": {"operationId": "listTemplates", "summary": "The account's templates with their versions (scope templates)",
      "parameters": [{"name": "generations", "in": "query", "schema": {"type": "string", "enum": ["dynamic", "legacy", "legacy,dynamic", "dynamic,legacy"]}},
                     {"name": "page_size", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}}],
      "responses": dict({"200": {"description": "Templates", "content": JSON({"type": "object", "required": ["result"],
                         "properties": {"result": {"type": "array", "items": TEMPLATE}}})}, "400": errresp("Bad page_size or generations")}, **common)},
    "post": {"operationId": "createTemplate", "summary": "A new template (generation dynamic by default)",
      "requestBody": {"required": True, "content": JSON(TEMPLATE_NEW)},
      "responses": dict({"201": {"description": "The template", "content": JSON(TEMPLATE)}, "400": errresp("Bad name or generation, or too many templates"),
                         "413": errresp("Body too large"), "415": errresp("Unsupported encoding"), "503": errresp("Storage trouble")}, **common)}},
  "/v3/templates/{template_id}": {"parameters": [{"name": "template_id", "in": "path", "required": True, "schema": {"type": "string"}}],
    "get": {"operationId": "getTemplate", "summary": "One template with its versions",
      "responses": dict({"200": {"description": "The template", "content": JSON(TEMPLATE)}, "404": errresp("No such template of this account")}, **common)},
    "patch": {"operationId": "renameTemplate", "summary": "Rename a template",
      "requestBody": {"required": True, "content": JSON({"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100}}})},
      "responses": dict({"200": {"description": "The template", "content": JSON(TEMPLATE)}, "400": errresp("Bad name"), "404": errresp("No such template"),
                         "413": errresp("Body too large"), "415": errresp("Unsupported encoding")}, **common)},
    "delete": {"operationId": "deleteTemplate", "summary": "Remove a template and its versions",
      "responses": dict({"204": {"description": "Removed"}, "404": errresp("No such template")}, **common)}},
  "/v3/templates/{template_id}/versions": {"parameters": [{"name": "template_id", "in": "path", "required": True, "schema": {"type": "string"}}],
    "post": {"operationId": "createTemplateVersion", "summary": "A new version, compiled first (an active one deactivates the others)",
      "requestBody": {"required": True, "content": JSON(VERSION_BODY)},
      "responses": dict({"201": {"description": "The version", "content": JSON(VERSION)}, "400": errresp("Bad name, or Handlebars that does not parse (field and line)"),
                         "404": errresp("No such template"), "413": errresp("Body too large"), "415": errresp("Unsupported encoding")}, **common)}},
  "/v3/templates/{template_id}/versions/{version_id}": {"parameters": [{"name": "template_id", "in": "path", "required": True, "schema": {"type": "string"}},
                                                                      {"name": "version_id", "in": "path", "required": True, "schema": {"type": "string"}}],
    "get": {"operationId": "getTemplateVersion", "summary": "One version",
      "responses": dict({"200": {"description": "The version", "content": JSON(VERSION)}, "404": errresp("No such version")}, **common)},
    "patch": {"operationId": "updateTemplateVersion", "summary": "Change a version (what is left out stays)",
      "requestBody": {"required": True, "content": JSON(VERSION_BODY)},
      "responses": dict({"200": {"description": "The version", "content": JSON(VERSION)}, "400": errresp("Bad name, or Handlebars that does not parse"),
                         "404": errresp("No such version"), "413": errresp("Body too large"), "415": errresp("Unsupported encoding")}, **common)},
    "delete": {"operationId": "deleteTemplateVersion", "summary": "Remove a version",
      "responses": dict({"204": {"description": "Removed"}, "404": errresp("No such version")}, **common)}},
  "/v3/templates/{template_id}/versions/{version_id}/activate": {"parameters": [{"name": "template_id", "in": "path", "required": True, "schema": {"type": "string"}},
                                                                               {"name": "version_id", "in": "path", "required": True, "schema": {"type": "string"}}],
    "post": {"operationId": "activateTemplateVersion", "summary": "Make this the version sends use",
      "responses": dict({"200": {"description": "The version", "content": JSON(VERSION)}, "404": errresp("No such version")}, **common)}},
  "/v3/tracking_settings": {"get": {"operationId": "listTrackingSettings", "summary": "The account's tracking defaults (scope tracking_settings)",
      "responses": dict({"200": {"description": "Each setting and whether it is on", "content": JSON({"type": "object", "required": ["result"],
          "properties": {"result": {"type": "array", "items": {"type": "object", "required": ["name", "title", "description", "enabled"],
              "properties": {"name": {"type": "string", "enum": ["click", "open", "subscription"]}, "title": {"type": "string"},
                             "description": {"type": "string"}, "enabled": {"type": "boolean"}}}}}})}}, **common)}},
  "/v3/tracking_settings/open": {
    "get": {"operationId": "getOpenTracking", "summary": "Open tracking default",
      "responses": dict({"200": {"description": "The setting", "content": JSON(OPEN_SETTING)}}, **common)},
    "patch": {"operationId": "patchOpenTracking", "summary": "Turn open tracking on or off by default",
      "requestBody": {"required": True, "content": JSON(OPEN_SETTING)},
      "responses": dict({"200": {"description": "The setting", "content": JSON(OPEN_SETTING)}, "400": errresp("Bad body"),
                         "413": errresp("Body too large"), "415": errresp("Unsupported encoding"), "503": errresp("Storage trouble")}, **common)}},
  "/v3/tracking_settings/click": {
    "get": {"operationId": "getClickTracking", "summary": "Click tracking default",
      "responses": dict({"200": {"description": "The setting", "content": JSON(CLICK_SETTING)}}, **common)},
    "patch": {"operationId": "patchClickTracking", "summary": "Turn click tracking (and text links) on or off by default",
      "requestBody": {"required": True, "content": JSON(CLICK_SETTING)},
      "responses": dict({"200": {"description": "The setting", "content": JSON(CLICK_SETTING)}, "400": errresp("Bad body"),
                         "413": errresp("Body too large"), "415": errresp("Unsupported encoding"), "503": errresp("Storage trouble")}, **common)}},
  "/v3/tracking_settings/subscription": {
    "get": {"operationId": "getSubscriptionTracking", "summary": "Subscription tracking default and footers",
      "responses": dict({"200": {"description": "The setting", "content": JSON(SUBSCRIPTION_SETTING)}}, **common)},
    "patch": {"operationId": "patchSubscriptionTracking", "summary": "Change subscription tracking and its footers (<% %> marks the link)",
      "requestBody": {"required": True, "content": JSON(SUBSCRIPTION_SETTING)},
      "responses": dict({"200": {"description": "The setting", "content": JSON(SUBSCRIPTION_SETTING)}, "400": errresp("Bad body"),
                         "413": errresp("Body too large"), "415": errresp("Unsupported encoding"), "503": errresp("Storage trouble")}, **common)}},
  "/v3/sandbox/messages": {"get": {"operationId": "listSandboxMessages", "summary": "The sandbox inbox, newest first (scope messages.read)",
      "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}],
      "responses": dict({"200": {"description": "Messages", "content": JSON({"type": "object", "required": ["messages"],
          "properties": {"messages": {"type": "array", "items": SANDBOX}}})}, "400": errresp("Bad limit")}, **common)}},
  "/v3/sandbox/messages/{id}": {
    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
    "get": {"operationId": "getSandboxMessage", "summary": "One sandbox message",
      "responses": dict({"200": {"description": "The message", "content": JSON(SANDBOX)}, "404": errresp("No such message")}, **common)}},
  "/v3/sandbox/messages/{id}/raw": {
    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
    "get": {"operationId": "getSandboxMessageSource", "summary": "The message as stored (DKIM-signed)",
      "responses": dict({"200": {"description": "The source", "content": {"message/rfc822": {"schema": {"type": "string"}}}},
                         "404": errresp("No such message")}, **common)}},
  "/v3/api_keys": {
    "get": {"operationId": "listApiKeys", "summary": "List the account's live keys (scope api_keys)",
       "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
       "responses": dict({"200": {"description": "Keys", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/KeyList"}}}},
                          "400": errresp("Bad limit")}, **common)},
    "post": {"operationId": "createApiKey", "summary": "Create a key (scope api_keys); its scopes must be held by the caller",
       "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/KeyRequest"}}}},
       "responses": dict({"201": {"description": "The new key, shown once", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CreatedKey"}}}},
                          "400": errresp("Bad name or scopes"), "413": errresp("Body too large"), "415": errresp("Unsupported encoding")}, **common)}},
  "/v3/api_keys/{api_key_id}": {
    "parameters": [{"name": "api_key_id", "in": "path", "required": True, "schema": {"type": "string"}}],
    "get": {"operationId": "getApiKey", "summary": "One key with its scopes",
       "responses": dict({"200": {"description": "The key", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/KeyList"}}}},
                          "404": errresp("No such live key of this account")}, **common)},
    "patch": {"operationId": "renameApiKey", "summary": "Rename a key",
       "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/KeyName"}}}},
       "responses": dict({"200": {"description": "The key", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Key"}}}},
                          "400": errresp("Bad name"), "404": errresp("No such live key"), "413": errresp("Body too large"), "415": errresp("Unsupported encoding")}, **common)},
    "put": {"operationId": "updateApiKey", "summary": "Rename a key and replace its scopes",
       "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/KeyRequest"}}}},
       "responses": dict({"200": {"description": "The key", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Key"}}}},
                          "400": errresp("Bad name or scopes"), "404": errresp("No such live key"), "413": errresp("Body too large"), "415": errresp("Unsupported encoding")}, **common)},
    "delete": {"operationId": "deleteApiKey", "summary": "Revoke a key at once",
       "responses": dict({"204": {"description": "Revoked"}, "404": errresp("No such live key")}, **common)}},
 },
 "components": {
  "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
  "schemas": {
   "Errors": {"type": "object", "required": ["errors"], "properties": {"errors": {"type": "array", "items": {
       "type": "object", "required": ["message", "field", "help"],
       "properties": {"message": {"type": "string"}, "field": {"type": ["string", "null"]}, "help": {"type": ["string", "null"]}}}}}},
   "Address": addr,
   "MailSend": {"type": "object", "required": ["personalizations", "from"], "properties": {
       "personalizations": {"type": "array", "minItems": 1, "maxItems": 1000, "items": {"type": "object", "required": ["to"], "properties": {
           "to": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/Address"}},
           "cc": {"type": "array", "items": {"$ref": "#/components/schemas/Address"}},
           "bcc": {"type": "array", "items": {"$ref": "#/components/schemas/Address"}},
           "from": {"$ref": "#/components/schemas/Address"}, "subject": {"type": "string"},
           "headers": strmap, "substitutions": strmap, "custom_args": strmap, "send_at": {"type": "integer"},
           "dynamic_template_data": {"type": "object", "description": "Data the template_id's active version is rendered with (Handlebars)"}}}},
       "from": {"$ref": "#/components/schemas/Address"},
       "reply_to": {"$ref": "#/components/schemas/Address"},
       "reply_to_list": {"type": "array", "items": {"$ref": "#/components/schemas/Address"}},
       "subject": {"type": "string"},
       "content": {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["type", "value"],
           "properties": {"type": {"type": "string", "minLength": 1}, "value": {"type": "string", "minLength": 1}}}},
       "attachments": {"type": "array", "items": {"type": "object", "required": ["content", "filename"], "properties": {
           "content": {"type": "string"}, "filename": {"type": "string"}, "type": {"type": "string"},
           "disposition": {"type": "string", "enum": ["inline", "attachment"]}, "content_id": {"type": "string"}}}},
       "template_id": {"type": "string"}, "headers": strmap,
       "categories": {"type": "array", "maxItems": 10, "items": {"type": "string", "maxLength": 255}},
       "custom_args": strmap, "send_at": {"type": "integer"}, "batch_id": {"type": "string"},
       "asm": {"type": "object", "properties": {"group_id": {"type": "integer"}, "groups_to_display": {"type": "array", "items": {"type": "integer"}}}},
       "ip_pool_name": {"type": "string"},
       "mail_settings": {"type": "object", "properties": {"sandbox_mode": setting, "bypass_list_management": setting, "bypass_spam_management": setting,
           "bypass_bounce_management": setting, "bypass_unsubscribe_management": setting}},
       "tracking_settings": {"type": "object"}}},
   "KeyRequest": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100},
       "scopes": {"type": ["array", "null"], "minItems": 1, "description": "Absent or null: the scopes of the key making the request.", "items": {"type": "string", "description": "A Tern scope, or a SendGrid scope name (read as the Tern scope of its area)",
           "enum": ["mail.send", "messages.read", "stats.read", "suppressions", "webhooks", "api_keys", "templates", "tracking_settings", "full"]}}}},
   "Metrics": {"type": "object", "required": METRICS, "properties": {m: {"type": "integer", "minimum": 0} for m in METRICS}},
   "StatsPeriod": {"type": "object", "required": ["date", "stats"], "properties": {"date": {"type": "string"},
       "stats": {"type": "array", "items": {"type": "object", "required": ["metrics"], "properties": {"type": {"type": "string", "enum": ["category"]},
           "name": {"type": "string"}, "metrics": {"$ref": "#/components/schemas/Metrics"}}}}}},
   "MessageSummary": {"type": "object", "required": ["from_email", "msg_id", "subject", "to_email", "status", "opens_count", "clicks_count", "last_event_time"],
       "properties": {"from_email": {"type": "string"}, "msg_id": {"type": "string"}, "subject": {"type": "string"}, "to_email": {"type": "string"},
           "status": {"type": "string", "enum": ["processed", "delivered", "not_delivered"]}, "opens_count": {"type": "integer"},
           "clicks_count": {"type": "integer"}, "last_event_time": {"type": "string"}}},
   "MessageList": {"type": "object", "required": ["messages"], "properties": {"messages": {"type": "array", "items": {"$ref": "#/components/schemas/MessageSummary"}}}},
   "MessageDetail": {"type": "object", "required": ["from_email", "msg_id", "subject", "to_email", "status", "categories", "unique_args", "asm_group_id", "originating_ip", "opens_count", "clicks_count", "links", "events"],
       "properties": {"from_email": {"type": "string"}, "msg_id": {"type": "string"}, "subject": {"type": "string"}, "to_email": {"type": "string"},
           "status": {"type": "string", "enum": ["processed", "delivered", "not_delivered"]}, "categories": {"type": "array", "items": {"type": "string"}},
           "unique_args": strmap, "asm_group_id": {"type": ["integer", "null"]}, "originating_ip": {"type": "string"},
           "opens_count": {"type": "integer", "minimum": 0}, "clicks_count": {"type": "integer", "minimum": 0},
           "links": {"type": "array", "description": "Clicks per tracked link", "items": {"type": "object", "required": ["url", "url_offset", "clicks"],
               "properties": {"url": {"type": "string"}, "url_offset": {"type": "integer", "minimum": 0}, "clicks": {"type": "integer", "minimum": 1}}}},
           "events": {"type": "array", "items": {"type": "object", "required": ["event_name", "processed", "reason", "mx_server", "attempt_num", "payload"],
               "properties": {"event_name": {"type": "string"}, "processed": {"type": "string"}, "reason": {"type": "string"}, "mx_server": {"type": "string"},
                   "attempt_num": {"type": "integer"}, "payload": {"type": "object", "description": "The event as the Event Webhook sends it"}}}}}},
   "KeyName": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100}}},
   "Key": {"type": "object", "required": ["api_key_id", "name"], "properties": {"api_key_id": {"type": "string"}, "name": {"type": "string"},
       "scopes": {"type": "array", "items": {"type": "string"}}}},
   "KeyList": {"type": "object", "required": ["result"], "properties": {"result": {"type": "array", "items": {"$ref": "#/components/schemas/Key"}}}},
   "CreatedKey": {"type": "object", "required": ["api_key", "api_key_id", "name", "scopes"], "properties": {"api_key": {"type": "string"},
       "api_key_id": {"type": "string"}, "name": {"type": "string"}, "scopes": {"type": "array", "items": {"type": "string"}}}},
  }}}
def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# One line per path and per schema: readable in a diff, and the generated Swift file stays
# short (the document is data, not code).
def section(mapping):
    return "{\n" + ",\n".join(f"    {compact(key)}: {compact(value)}" for key, value in mapping.items()) + "\n  }"


text = ("{\n" + ",\n".join(
    f"  {compact(key)}: " + (section(value) if key == "paths" else
                              "{\n    \"securitySchemes\": " + compact(value["securitySchemes"]) + ",\n    \"schemas\": "
                              + section(value["schemas"]).replace("\n    ", "\n      ").replace("\n  }", "\n    }") + "\n  }"
                              if key == "components" else compact(value))
    for key, value in doc.items()) + "\n}")
json.loads(text)  # the document is still one valid JSON text
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources", "WebAPI", "OpenAPIDocument.swift"), "w").write('''import Foundation
import Hummingbird

/// The OpenAPI 3.1 description of every endpoint, served at `/v3/openapi.json`. Generated by
/// `scripts/openapi-document.py` (edit that, then run it). The router answers 405 from it for
/// a known path with a method it lacks; the schemathesis interop test checks every answer
/// against it, so a handler that drifts from it fails CI. (Generating the handlers from it with
/// swift-openapi-generator was weighed and not taken: its build plugin costs minutes per clean
/// build, and the handlers are thin over `SendGridProtocol` already.)
enum OpenAPIDocument {
    static let json = #"""
''' + text + '''
"""#

    static func response() -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    /// Each documented path as segments (`{name}` matches any one segment) with its methods.
    static let operations: [(segments: [Substring], methods: [String])] = {
        guard let document = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
            let paths = document["paths"] as? [String: [String: Any]]
        else { return [] }
        let verbs = ["get", "put", "post", "delete", "patch", "head", "options"]
        // Literal segments win over placeholders (`settings/all` before `settings/{id}`).
        return paths.map { path, item in
            (path.split(separator: "/"), verbs.filter { item[$0] != nil }.map { $0.uppercased() })
        }.sorted { $0.segments.filter { $0.first == "{" }.count < $1.segments.filter { $0.first == "{" }.count }
    }()

    /// The methods of the documented path `path` matches; nil when it matches none.
    static func allowedMethods(path: String) -> [String]? {
        let segments = path.split(separator: "/")
        for operation in operations where operation.segments.count == segments.count {
            if zip(operation.segments, segments).allSatisfy({ $0.first == "{" || $0 == $1 }) { return operation.methods }
        }
        return nil
    }
}
''')
