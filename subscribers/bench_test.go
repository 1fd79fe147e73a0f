package subscribers

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
)

// csvRows makes an import file of n distinct subscribers with varied
// preferences.
func csvRows(n int) string {
	topics := []string{"", "migration", "refugees;gender", "human-trafficking;children;migration"}
	regions := []string{"", "europe", "argentina;venezuela", "africa"}
	zones := []string{"UTC", "Europe/Paris", "America/Argentina/Buenos_Aires", "Asia/Dhaka"}
	cadences := []string{"immediate", "daily", "weekly"}
	langs := []string{"en", "fr", "es"}
	var b strings.Builder
	b.WriteString("email,topics,regions,language,cadence,timezone,status\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "subscriber%06d@example.org,%s,%s,%s,%s,%s,active\n", i,
			topics[i%4], regions[(i/4)%4], langs[i%3], cadences[i%3], zones[(i/3)%4])
	}
	return b.String()
}

// BenchmarkImport100k imports 100,000 new rows into an empty database
// (SPEC goal: under 10 s), then the same file again (every row skipped).
func BenchmarkImport100k(b *testing.B) {
	data := csvRows(100000)
	for b.Loop() {
		b.StopTimer()
		f := newFixture(b)
		b.StartTimer()
		res, err := f.svc.Import(context.Background(), strings.NewReader(data), ImportOptions{})
		if err != nil || res.Added != 100000 {
			b.Fatalf("%+v %v", res.Added, err)
		}
		b.StopTimer()
		res, err = f.svc.Import(context.Background(), strings.NewReader(data), ImportOptions{})
		if err != nil || res.Skipped != 100000 {
			b.Fatalf("re-import %+v %v", res.Skipped, err)
		}
		b.StartTimer()
	}
}

// BenchmarkExport100k streams 100,000 subscribers out as CSV.
func BenchmarkExport100k(b *testing.B) {
	f := newFixture(b)
	if _, err := f.svc.Import(context.Background(), strings.NewReader(csvRows(100000)), ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		n, err := f.svc.Export(context.Background(), io.Discard, nil)
		if err != nil || n != 100000 {
			b.Fatal(n, err)
		}
	}
}
