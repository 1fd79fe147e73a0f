package releases

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"herald/store"
)

// Input is a release as submitted to the API or the CLI: every field is
// optional so that the same type serves a create (absent fields take their
// defaults) and a partial update (absent fields stay as they are).
type Input struct {
	Title          *string          `json:"title"`
	Summary        *string          `json:"summary"`
	Body           *string          `json:"body"`
	BodyFormat     *string          `json:"body_format"`
	URL            *string          `json:"url"`
	Slug           *string          `json:"slug"`
	Dateline       *string          `json:"dateline"`
	Language       *string          `json:"language"`
	TranslationKey *string          `json:"translation_key"`
	Topics         *List            `json:"topics"`
	Regions        *List            `json:"regions"`
	Contacts       *[]store.Contact `json:"contacts"`
	PublishedAt    *string          `json:"published_at"`
	Status         *string          `json:"status"`
}

// List is a list of slugs that also accepts comma-separated strings.
type List []string

// UnmarshalJSON accepts ["a","b"], "a,b", and arrays of comma-separated
// strings (["a,b","c"]).
func (l *List) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte(`"`)) {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = SplitList(s)
		return nil
	}
	var xs []string
	if err := json.Unmarshal(b, &xs); err != nil {
		return err
	}
	out := make(List, 0, len(xs))
	for _, x := range xs {
		out = append(out, SplitList(x)...)
	}
	*l = out
	return nil
}

// SplitList splits "a, b,,c" into [a b c].
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ErrMalformed means the input is not a JSON object (HTTP 400).
var ErrMalformed = errors.New("malformed JSON")

// DecodeInput parses a JSON release. Syntax errors wrap ErrMalformed; a
// value of the wrong type is a *ValidationError naming the field. Unknown
// fields are ignored, so that a release read from the API can be sent back.
func DecodeInput(data []byte) (Input, error) {
	var in Input
	err := json.Unmarshal(data, &in)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return in, nil
	case errors.As(err, &typeErr) && typeErr.Field != "":
		field := typeErr.Field
		if i := strings.IndexByte(field, '.'); i > 0 && !strings.HasPrefix(field, "contacts") {
			field = field[:i]
		}
		return in, &ValidationError{Field: field, Msg: fmt.Sprintf("must be %s", jsonKind(typeErr.Type.String()))}
	default:
		return in, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
}

func jsonKind(goType string) string {
	switch {
	case strings.Contains(goType, "[]store.Contact"):
		return "a list of contacts"
	case strings.HasPrefix(goType, "[]"), strings.HasSuffix(goType, "List"):
		return "a list of strings"
	case strings.Contains(goType, "Contact"):
		return "an object with name, email and phone"
	}
	return "a string"
}

// ValidationError reports an invalid field; the API answers 422 with it.
type ValidationError struct {
	Field string
	Msg   string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Msg }

// InvalidField names the field, for the API's error mapper.
func (e *ValidationError) InvalidField() string { return e.Field }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Msg: fmt.Sprintf(format, args...)}
}
