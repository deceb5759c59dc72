package event_test

import (
	"math"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
)

func TestDaysFromCivil(t *testing.T) {
	tests := []struct {
		y, m, d int
		days    int64
	}{
		{1970, 1, 1, 0},
		{1969, 12, 31, -1},
		{2000, 2, 29, 11016},
		{2000, 3, 1, 11017},
		{2026, 1, 2, 20455},
		{1, 1, 1, -719162},
		{0, 1, 1, -719528},        // 1 BC, a leap year
		{0, 2, 29, -719469},       // 1 BC had a February 29
		{-4713, 11, 24, -2440588}, // Julian day 0, Postgres' earliest date (4714-11-24 BC)
		{9999, 12, 31, 2932896},
		{5874897, 12, 31, 2145042905}, // Postgres' latest date (Julian day 2147483493)
		// Normalized like time.Date.
		{1970, 13, 1, 365},
		{1970, 1, 0, -1},
		{1970, 0, 1, -31},
		{1970, 3, 0, 58}, // Feb 28
		{1972, 1, 366, 365*2 + 365},
	}
	for _, tt := range tests {
		if got := event.DaysFromCivil(tt.y, tt.m, tt.d); got != tt.days {
			t.Errorf("DaysFromCivil(%d, %d, %d) = %d, want %d", tt.y, tt.m, tt.d, got, tt.days)
		}
	}
}

func TestCivilFromDays(t *testing.T) {
	tests := []struct {
		days    int64
		y, m, d int
	}{
		{0, 1970, 1, 1},
		{-1, 1969, 12, 31},
		{11016, 2000, 2, 29},
		{-719162, 1, 1, 1},
		{-719163, 0, 12, 31},
		{-719469, 0, 2, 29},
		{2932896, 9999, 12, 31},
		{2932897, 10000, 1, 1},
		// The extremes do not overflow.
		{math.MaxInt64, 25252734927768524, 7, 27},
		{math.MinInt64, -25252734927764585, 6, 7},
	}
	for _, tt := range tests {
		y, m, d := event.CivilFromDays(tt.days)
		if y != tt.y || m != tt.m || d != tt.d {
			t.Errorf("CivilFromDays(%d) = %d-%d-%d, want %d-%d-%d", tt.days, y, m, d, tt.y, tt.m, tt.d)
		}
		if back := event.DaysFromCivil(y, m, d); back != tt.days {
			t.Errorf("DaysFromCivil(CivilFromDays(%d)) = %d", tt.days, back)
		}
	}
}

// TestCivilAgreesWithTime checks both directions against package time for
// every day from year -1000 to year 3000, in steps that hit every month.
func TestCivilAgreesWithTime(t *testing.T) {
	start := time.Date(-1000, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
	for tm := start; tm.Before(end); tm = tm.AddDate(0, 0, 7) {
		days := tm.Unix() / 86400
		y, m, d := event.CivilFromDays(days)
		if y != tm.Year() || m != int(tm.Month()) || d != tm.Day() {
			t.Fatalf("CivilFromDays(%d) = %d-%d-%d, want %s", days, y, m, d, tm)
		}
		if got := event.DaysFromCivil(tm.Year(), int(tm.Month()), tm.Day()); got != days {
			t.Fatalf("DaysFromCivil(%s) = %d, want %d", tm, got, days)
		}
	}
}

func TestCanonicalDecimal(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		// Already canonical: returned as is.
		{"0", "0", true},
		{"-12.3400", "-12.3400", true},
		{"12.34", "12.34", true},
		{"0.001", "0.001", true},
		{"123456789012345678901234567890", "123456789012345678901234567890", true},
		{"NaN", "NaN", true},
		{"Infinity", "Infinity", true},
		{"-Infinity", "-Infinity", true},
		// Rewritten.
		{"+1", "1", true},
		{"007", "7", true},
		{"00.50", "0.50", true},
		{".5", "0.5", true},
		{"-.5", "-0.5", true},
		{"5.", "5", true},
		{"-0", "0", true},
		{"-0.00", "0.00", true},
		{"1e3", "1000", true},
		{"1E+3", "1000", true},
		{"1.50e2", "150", true},
		{"1.500e1", "15.00", true},
		{"15e-1", "1.5", true},
		{"1.5e-3", "0.0015", true},
		{"-1.5e-3", "-0.0015", true},
		{"0e5", "0", true},
		{"0.0e-2", "0.000", true},
		{"-0e-2", "0.00", true},
		{"123.456e-10", "0.0000000123456", true},
		{"nan", "NaN", true},
		{"inf", "Infinity", true},
		{"+INF", "Infinity", true},
		{"-infinity", "-Infinity", true},
		// Rejected.
		{"", "", false},
		{"-", "", false},
		{".", "", false},
		{"-.", "", false},
		{"1e", "", false},
		{"1e+", "", false},
		{"e5", "", false},
		{"1.2.3", "", false},
		{" 1", "", false},
		{"1 ", "", false},
		{"1_000", "", false},
		{"0x10", "", false},
		{"-NaN", "", false},
		{"infinit", "", false},
		{"1e999999999999999999999", "", false},
		{"1e300000", "", false},
		{"1e-300000", "", false},
	}
	for _, tt := range tests {
		got, ok := event.CanonicalDecimal(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("CanonicalDecimal(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if ok {
			if again, ok2 := event.CanonicalDecimal(got); again != got || !ok2 {
				t.Errorf("CanonicalDecimal(%q) = %q, %v: the canonical form is not a fixed point", got, again, ok2)
			}
		}
	}
}

func TestCanonicalDecimalLongExpansion(t *testing.T) {
	got, ok := event.CanonicalDecimal("1e131071")
	if !ok || len(got) != 131072 || got[0] != '1' {
		t.Fatalf("CanonicalDecimal(1e131071): len %d, %v", len(got), ok)
	}
}

func TestCanonicalDecimalDoesNotAllocateWhenCanonical(t *testing.T) {
	s := "-12345.678900"
	if n := testing.AllocsPerRun(100, func() { event.CanonicalDecimal(s) }); n != 0 {
		t.Fatalf("CanonicalDecimal(%q) allocated %v times", s, n)
	}
}
