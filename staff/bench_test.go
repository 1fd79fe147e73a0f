package staff_test

import (
	"testing"

	"herald/staff"
)

func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		staff.HashPassword("correct horse battery")
	}
}
