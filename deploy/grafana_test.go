package deploy

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestGrafanaDashboard checks that grafana/herald.json is a dashboard
// Grafana can import: valid JSON, panels with queries on the data source
// variable, unique ids, no two panels on the same spot, and a panel for
// each thing an operator watches.
func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile("grafana/herald.json")
	if err != nil {
		t.Fatal(err)
	}
	type gridPos struct{ X, Y, W, H int }
	var d struct {
		Title         string
		UID           string
		SchemaVersion int
		Templating    struct {
			List []struct{ Name, Type string }
		}
		Panels []struct {
			ID         int
			Type       string
			Title      string
			GridPos    gridPos
			Datasource struct{ Type, UID string }
			Targets    []struct {
				Expr  string
				RefID string `json:"refId"`
			}
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("grafana/herald.json: %v", err)
	}
	if d.Title == "" || d.UID == "" || d.SchemaVersion == 0 {
		t.Errorf("title %q, uid %q, schemaVersion %d: all are needed", d.Title, d.UID, d.SchemaVersion)
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
	}
	if vars["datasource"] != "datasource" || vars["job"] == "" {
		t.Errorf("variables %v: want a datasource variable and a job variable", vars)
	}
	if len(d.Panels) < 5 {
		t.Fatalf("%d panels, want at least 5", len(d.Panels))
	}
	ids := map[int]bool{}
	var titles []string
	for i, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel %q: id %d used twice", p.Title, p.ID)
		}
		ids[p.ID] = true
		titles = append(titles, strings.ToLower(p.Title))
		if p.Datasource.UID != "${datasource}" || p.Datasource.Type != "prometheus" {
			t.Errorf("panel %q: data source %+v, want the ${datasource} variable", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			if q.Expr == "" || q.RefID == "" || !strings.Contains(q.Expr, `job=~"$job"`) {
				t.Errorf("panel %q: query %q (refId %q): want a query on the selected job", p.Title, q.Expr, q.RefID)
			}
		}
		a := p.GridPos
		if a.W <= 0 || a.H <= 0 || a.X+a.W > 24 {
			t.Errorf("panel %q: gridPos %+v outside the 24 columns", p.Title, a)
		}
		for _, o := range d.Panels[:i] {
			b := o.GridPos
			if a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H {
				t.Errorf("panels %q and %q overlap", o.Title, p.Title)
			}
		}
	}
	all := strings.Join(titles, " | ")
	for _, want := range []string{"queue", "sent", "failures", "feed latency", "leader"} {
		if !strings.Contains(all, want) {
			t.Errorf("no panel about %q among %s", want, all)
		}
	}
}
