package ui

import (
	"encoding/json"
	"mime"
	"net/http"
	"strings"
)

// WantsJSON reports a JSON request body: such a request gets JSON back,
// errors included.
func WantsJSON(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// WriteJSON answers v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// WriteJSONError answers {"error","field"} like the admin API.
func WriteJSONError(w http.ResponseWriter, status int, msg, field string) {
	WriteJSON(w, status, map[string]string{"error": msg, "field": field})
}
