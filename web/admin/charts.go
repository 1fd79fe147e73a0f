package admin

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"herald/store"
)

// Charts of the dashboard: plain inline SVG built on the server (no
// script, no external asset, no style attribute: colours come from classes
// in admin.css). Each chart comes with its numbers as a table for screen
// readers and for anyone who wants the exact figures.

// svgChart is a chart as shapes in a viewBox of Width x Height.
type svgChart struct {
	ID            string // for aria-labelledby
	Title, Desc   string
	Width, Height int
	Rects         []svgRect
	Lines         []svgLine
	Texts         []svgText
	Polyline      string // points of the line series, "" for none
	PolyClass     string
}

type svgRect struct {
	X, Y, W, H string
	Class      string
	Tip        string // <title>: shown on hover
}

type svgLine struct {
	X1, Y1, X2, Y2 string
	Class          string
}

type svgText struct {
	X, Y   string
	Anchor string // start | middle | end
	Class  string
	Text   string
}

// fmtF writes a coordinate with one decimal at most.
func fmtF(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// niceMax rounds a maximum up to 1, 2 or 5 times a power of ten, so that
// the axis labels are round numbers.
func niceMax(v int) int {
	if v <= 4 {
		return 4
	}
	p := 1
	for p*10 <= v {
		p *= 10
	}
	for _, m := range []int{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// chart geometry shared by the time-series charts.
const (
	chartW, chartH         = 640, 220
	padL, padR, padT, padB = 44, 8, 10, 26
)

// timeAxis adds the grid, the y labels (0, half, max) and three date
// labels (first, middle, last day).
func timeAxis(c *svgChart, days []time.Time, top int) {
	plotH := float64(chartH - padT - padB)
	for _, f := range []float64{0, .5, 1} {
		y := float64(chartH-padB) - f*plotH
		c.Lines = append(c.Lines, svgLine{X1: fmtF(padL), Y1: fmtF(y), X2: fmtF(chartW - padR), Y2: fmtF(y), Class: "grid"})
		c.Texts = append(c.Texts, svgText{X: fmtF(padL - 6), Y: fmtF(y + 4), Anchor: "end", Class: "axis", Text: strconv.Itoa(int(f * float64(top)))})
	}
	n := len(days)
	if n == 0 {
		return
	}
	step := float64(chartW-padL-padR) / float64(n)
	for _, i := range []int{0, n / 2, n - 1} {
		x := float64(padL) + step*(float64(i)+.5)
		anchor := "middle"
		if i == 0 {
			anchor = "start"
			x = padL
		} else if i == n-1 {
			anchor = "end"
			x = chartW - padR
		}
		c.Texts = append(c.Texts, svgText{X: fmtF(x), Y: fmtF(chartH - 8), Anchor: anchor, Class: "axis", Text: days[i].Format("2 Jan")})
	}
}

// growthChart draws active subscribers as a line over sign-ups per day as
// bars (both on one scale: sign-ups are far fewer, and visible as such).
func growthChart(days []store.GrowthDay) svgChart {
	c := svgChart{ID: "growth-chart", Title: "Subscriber growth",
		Desc:  "Active subscribers at the end of each day (line) and sign-ups per day (bars), last " + strconv.Itoa(len(days)) + " days.",
		Width: chartW, Height: chartH, PolyClass: "line-active"}
	top := 0
	dates := make([]time.Time, len(days))
	for i, d := range days {
		top = max(top, d.Active, d.SignUp)
		dates[i] = d.Day
	}
	top = niceMax(top)
	timeAxis(&c, dates, top)
	plotH := float64(chartH - padT - padB)
	step := float64(chartW-padL-padR) / float64(max(len(days), 1))
	var pts []string
	for i, d := range days {
		x := float64(padL) + step*float64(i)
		if d.SignUp > 0 {
			h := plotH * float64(d.SignUp) / float64(top)
			c.Rects = append(c.Rects, svgRect{X: fmtF(x + step*.15), Y: fmtF(float64(chartH-padB) - h), W: fmtF(step * .7), H: fmtF(h),
				Class: "bar-signup", Tip: fmt.Sprintf("%s: %d sign-ups", d.Day.Format("2 Jan 2006"), d.SignUp)})
		}
		y := float64(chartH-padB) - plotH*float64(d.Active)/float64(top)
		pts = append(pts, fmtF(x+step/2)+","+fmtF(y))
	}
	c.Polyline = strings.Join(pts, " ")
	return c
}

// deliveryChart draws sent, failed and deferred messages per day as
// stacked bars.
func deliveryChart(days []store.DeliveryDay) svgChart {
	c := svgChart{ID: "delivery-chart", Title: "Delivery",
		Desc:  "Messages sent, failed and deferred per day, last " + strconv.Itoa(len(days)) + " days.",
		Width: chartW, Height: chartH}
	top := 0
	dates := make([]time.Time, len(days))
	for i, d := range days {
		top = max(top, d.Sent+d.Failed+d.Deferred)
		dates[i] = d.Day
	}
	top = niceMax(top)
	timeAxis(&c, dates, top)
	plotH := float64(chartH - padT - padB)
	step := float64(chartW-padL-padR) / float64(max(len(days), 1))
	for i, d := range days {
		x := float64(padL) + step*float64(i) + step*.15
		base := float64(chartH - padB)
		day := d.Day.Format("2 Jan 2006")
		for _, part := range []struct {
			n     int
			class string
			what  string
		}{{d.Sent, "bar-sent", "sent"}, {d.Failed, "bar-failed", "failed"}, {d.Deferred, "bar-deferred", "deferred"}} {
			if part.n == 0 {
				continue
			}
			h := plotH * float64(part.n) / float64(top)
			base -= h
			c.Rects = append(c.Rects, svgRect{X: fmtF(x), Y: fmtF(base), W: fmtF(step * .7), H: fmtF(h),
				Class: part.class, Tip: fmt.Sprintf("%s: %d %s", day, part.n, part.what)})
		}
	}
	return c
}

// barRow is one row of a breakdown table with its bar (an SVG of a
// 100-wide viewBox, stretched to the cell).
type barRow struct {
	Label string
	N     int
	Width string // bar length, 0-100
}

// barRows scales counts against the largest (or against total when set).
func barRows(labels []string, counts []int) []barRow {
	top := 0
	for _, n := range counts {
		top = max(top, n)
	}
	out := make([]barRow, len(labels))
	for i := range labels {
		w := 0.0
		if top > 0 {
			w = 100 * float64(counts[i]) / float64(top)
		}
		out[i] = barRow{Label: labels[i], N: counts[i], Width: fmtF(w)}
	}
	return out
}
