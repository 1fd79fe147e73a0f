package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"herald/releases"
	"herald/store"
	"herald/subscribers"
	"herald/web/ui"
)

// MaxImportBody caps a CSV import (about two million rows); the rows are
// streamed, never held in memory whole.
const MaxImportBody = 256 << 20

// subscriberJSON is a subscriber as the API shows it (SPEC 2, Subscriber).
type subscriberJSON struct {
	ID             string       `json:"id"`
	Email          string       `json:"email"`
	Status         string       `json:"status"`
	Topics         []string     `json:"topics"`
	Regions        []string     `json:"regions"`
	Language       string       `json:"language"`
	Cadence        string       `json:"cadence"`
	Timezone       string       `json:"timezone"`
	CreatedAt      string       `json:"created_at"`
	UpdatedAt      string       `json:"updated_at"`
	ConfirmedAt    *string      `json:"confirmed_at"`
	UnsubscribedAt *string      `json:"unsubscribed_at"`
	BouncedAt      *string      `json:"bounced_at"`
	Consent        *consentJSON `json:"consent"`
}

// consentJSON is the consent record kept for audit.
type consentJSON struct {
	At          string          `json:"at"`
	IP          string          `json:"ip"`
	Page        string          `json:"page"`
	Preferences json.RawMessage `json:"preferences"`
}

func newSubscriberJSON(s *store.Subscriber) subscriberJSON {
	opt := func(t interface{ IsZero() bool }, v string) *string {
		if t.IsZero() {
			return nil
		}
		return &v
	}
	out := subscriberJSON{
		ID: strconv.FormatInt(s.ID, 10), Email: s.Email, Status: s.Status,
		Topics: nonNilList(s.Topics), Regions: nonNilList(s.Regions),
		Language: s.Language, Cadence: s.Cadence, Timezone: s.Timezone,
		CreatedAt: releases.FormatTime(s.CreatedAt), UpdatedAt: releases.FormatTime(s.UpdatedAt),
		ConfirmedAt:    opt(s.ConfirmedAt, releases.FormatTime(s.ConfirmedAt)),
		UnsubscribedAt: opt(s.UnsubscribedAt, releases.FormatTime(s.UnsubscribedAt)),
		BouncedAt:      opt(s.BouncedAt, releases.FormatTime(s.BouncedAt)),
	}
	if !s.ConsentAt.IsZero() {
		prefs := json.RawMessage(s.ConsentPrefs)
		if !json.Valid(prefs) {
			prefs = json.RawMessage("null")
		}
		out.Consent = &consentJSON{At: releases.FormatTime(s.ConsentAt), IP: s.ConsentIP, Page: s.ConsentPage, Preferences: prefs}
	}
	return out
}

func nonNilList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// subscriberInput is the body of POST and PATCH /api/v1/subscribers.
type subscriberInput struct {
	Email     *string        `json:"email"`
	Topics    *releases.List `json:"topics"`
	Regions   *releases.List `json:"regions"`
	Language  *string        `json:"language"`
	Cadence   *string        `json:"cadence"`
	Timezone  *string        `json:"timezone"`
	Status    *string        `json:"status"`
	Confirmed bool           `json:"confirmed"`
}

func (in subscriberInput) prefs() subscribers.PrefsInput {
	p := subscribers.PrefsInput{Language: in.Language, Cadence: in.Cadence, Timezone: in.Timezone}
	if in.Topics != nil {
		t := []string(*in.Topics)
		p.Topics = &t
	}
	if in.Regions != nil {
		r := []string(*in.Regions)
		p.Regions = &r
	}
	return p
}

func decodeSubscriber(w http.ResponseWriter, r *http.Request) (subscriberInput, error) {
	var in subscriberInput
	body, err := readBody(w, r)
	if err != nil {
		return in, err
	}
	if err := json.Unmarshal(body, &in); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return in, &httpError{status: http.StatusUnprocessableEntity, field: te.Field, msg: te.Field + " has the wrong type"}
		}
		return in, badRequest("", "request body is not a valid JSON object")
	}
	return in, nil
}

// remoteIP is the staff client's address (behind a trusted proxy, the
// one it forwarded), recorded with consent they add.
func remoteIP(r *http.Request) string { return ui.ClientIP(r) }

func (a *API) addSubscriber(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeSubscriber(w, r)
	if err != nil {
		return err
	}
	email := ""
	if in.Email != nil {
		email = *in.Email
	}
	sub, err := a.subscribers.Add(r.Context(), subscribers.AddRequest{
		Email: email, Prefs: in.prefs(), Confirmed: in.Confirmed,
		Consent: subscribers.Consent{IP: remoteIP(r), Page: "api"},
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/subscribers/"+strconv.FormatInt(sub.ID, 10))
	writeJSON(w, http.StatusCreated, newSubscriberJSON(&sub))
	return nil
}

type subscriberList struct {
	Items      []subscriberJSON `json:"items"`
	NextCursor string           `json:"next_cursor"`
}

func (a *API) listSubscribers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := parseLimit(q.Get("limit"))
	if err != nil {
		return err
	}
	page, err := a.subscribers.List(r.Context(), subscribers.ListQuery{
		Status: q.Get("status"), Topics: releases.SplitList(q.Get("topic")), Regions: releases.SplitList(q.Get("region")),
		Cursor: q.Get("cursor"), Limit: limit,
	})
	var ve *subscribers.ValidationError
	if errors.As(err, &ve) && ve.Field == "cursor" {
		return badRequest("cursor", "cursor is malformed; pass next_cursor from a previous page")
	}
	if err != nil {
		return err
	}
	out := subscriberList{Items: make([]subscriberJSON, 0, len(page.Items)), NextCursor: page.NextCursor}
	for i := range page.Items {
		out.Items = append(out.Items, newSubscriberJSON(&page.Items[i]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getSubscriber(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	sub, err := a.subscribers.Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newSubscriberJSON(&sub))
	return nil
}

func (a *API) patchSubscriber(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	in, err := decodeSubscriber(w, r)
	if err != nil {
		return err
	}
	sub, err := a.subscribers.Patch(r.Context(), id, subscribers.PatchRequest{
		Prefs: in.prefs(), Status: in.Status, Email: in.Email,
		Consent: subscribers.Consent{IP: remoteIP(r), Page: "api"},
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newSubscriberJSON(&sub))
	return nil
}

func (a *API) deleteSubscriber(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := a.subscribers.Erase(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// importSubscribers takes a text/csv body or a multipart/form-data field
// "file", streaming either through the importer.
func (a *API) importSubscribers(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, MaxImportBody)
	body, err := csvBody(r)
	if err != nil {
		return err
	}
	res, err := a.subscribers.Import(r.Context(), body, subscribers.ImportOptions{
		Consent: subscribers.Consent{IP: remoteIP(r), Page: "import"},
	})
	var re *subscribers.ReadError
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, subscribers.ErrBadCSV):
		return badRequest("file", strings.TrimPrefix(err.Error(), "subscribers: "))
	case errors.As(err, &re) && !errors.As(err, &mbe):
		// Cut short or a row too long: 400 naming the line; the rows
		// before it stay imported (re-importing the file skips them).
		why := "the upload stopped"
		if errors.Is(err, subscribers.ErrRowTooLong) {
			why = "the row is longer than " + strconv.Itoa(subscribers.MaxCSVRow>>10) + " KiB"
		}
		return badRequest("file", fmt.Sprintf("import stopped at line %d: %s; the %d rows before it were imported (added %d, updated %d, skipped %d, errors %d) and stay imported; send the rest again (rows already imported are skipped)",
			re.Line, why, re.Result.Rows(), re.Result.Added, re.Result.Updated, re.Result.Skipped, len(re.Result.Errors)+re.Result.ErrorsOmitted))
	case err != nil:
		if errors.As(err, &mbe) {
			return &httpError{status: http.StatusRequestEntityTooLarge, field: "file",
				msg: fmt.Sprintf("the CSV is larger than %d MiB; rows before the limit were imported (added %d, updated %d), import the rest separately", MaxImportBody>>20, res.Added, res.Updated)}
		}
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// csvBody finds the CSV in a request: the body itself, or the part named
// "file" of a multipart form (read as a stream, not buffered).
func csvBody(r *http.Request) (io.Reader, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil && r.Header.Get("Content-Type") != "" {
		return nil, badRequest("", "the Content-Type header is malformed")
	}
	switch mt {
	case "", "text/csv", "application/csv", "text/plain", "application/vnd.ms-excel", "application/octet-stream":
		return r.Body, nil
	case "multipart/form-data":
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, badRequest("file", "the multipart body is malformed")
		}
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return nil, badRequest("file", "the multipart form has no field named file")
			}
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					return nil, err
				}
				return nil, badRequest("file", "the multipart body is malformed")
			}
			if part.FormName() == "file" {
				return part, nil
			}
		}
	}
	return nil, badRequest("", "send the CSV as a text/csv body or as the field file of a multipart/form-data form")
}

func (a *API) exportSubscribers(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="subscribers.csv"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	n, err := a.subscribers.Export(r.Context(), w, nil)
	if err != nil {
		// The header is sent: the client sees a cut file; log why.
		a.log.Error("subscriber export failed", "rows", n, "err", err)
	}
	return nil
}
