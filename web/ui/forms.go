package ui

import (
	"slices"
	"sort"
	"strings"

	"herald/releases"
	"herald/subscribers"
)

// Form widgets shared by the public forms (subscribe, preferences) and the
// console's editor: templates read their fields by name.

// Option is a checkbox, radio button or select option.
type Option struct {
	Value, Label string
	Checked      bool
}

// RegionOption is a region with its countries (SPEC 2: country -> region).
type RegionOption struct {
	Option
	Children []Option
}

// AnyChildChecked reports whether a country of the region is chosen (its
// list is then shown open).
func (o RegionOption) AnyChildChecked() bool {
	for _, c := range o.Children {
		if c.Checked {
			return true
		}
	}
	return false
}

// ZoneGroup is an <optgroup> of time zones.
type ZoneGroup struct {
	Area    string
	Options []Option
}

// FieldError is a form error, shown in the summary and next to its field.
type FieldError struct {
	Field, Label, Msg string
}

// RegionTree nests countries under their region, named in lang, with the
// chosen ones ticked; terms whose parent is unknown are shown at the top
// level.
func RegionTree(tax *releases.Taxonomy, lang string, chosen []string) []RegionOption {
	var out []RegionOption
	index := map[string]int{}
	for _, t := range tax.Regions {
		if _, ok := tax.Region(t.Parent); t.Parent == "" || !ok {
			index[t.Slug] = len(out)
			out = append(out, RegionOption{Option: Option{Value: t.Slug, Label: tax.RegionName(t.Slug, lang), Checked: slices.Contains(chosen, t.Slug)}})
		}
	}
	for _, t := range tax.Regions {
		top := t.Parent
		for seen := 0; top != "" && seen < len(tax.Regions); seen++ {
			if _, ok := index[top]; ok {
				break
			}
			p, _ := tax.Region(top)
			top = p.Parent
		}
		if i, ok := index[top]; ok && t.Parent != "" {
			out[i].Children = append(out[i].Children, Option{Value: t.Slug, Label: tax.RegionName(t.Slug, lang), Checked: slices.Contains(chosen, t.Slug)})
		}
	}
	for i := range out {
		sort.SliceStable(out[i].Children, func(a, b int) bool { return out[i].Children[a].Label < out[i].Children[b].Label })
	}
	return out
}

// ZoneGroups are the time zones of a select (subscribers.CommonZones),
// grouped by area, with chosen selected.
func ZoneGroups(groups []subscribers.ZoneGroup, chosen string) []ZoneGroup {
	var out []ZoneGroup
	for _, g := range groups {
		zg := ZoneGroup{Area: g.Area}
		for _, z := range g.Zones {
			zg.Options = append(zg.Options, Option{Value: z, Label: strings.ReplaceAll(z, "_", " "), Checked: z == chosen})
		}
		out = append(out, zg)
	}
	return out
}
