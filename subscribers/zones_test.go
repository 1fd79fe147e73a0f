package subscribers

import (
	"testing"
	"time"
)

func TestCommonZones(t *testing.T) {
	n := 0
	for _, g := range CommonZones("Etc/GMT+3", "UTC") {
		for _, z := range g.Zones {
			n++
			if _, err := time.LoadLocation(z); err != nil {
				t.Errorf("offered zone %s: %v", z, err)
			}
		}
	}
	if n != len(commonZones)+1 {
		t.Fatalf("%d zones offered, want the common ones plus the extra one", n)
	}
}
