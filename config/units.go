package config

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written in YAML as Go duration text: "30s",
// "1m30s", "500ms". A bare number other than 0 is rejected, since its unit
// would be a guess.
type Duration time.Duration

// Duration returns d as a time.Duration.
func (d Duration) Duration() time.Duration { return time.Duration(d) }

// String formats d like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText formats d like String.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses text with ParseDuration.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := ParseDuration(string(text))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

var bareNumber = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]*)?$`)

// ParseDuration parses a non-negative duration such as "30s", "1m30s" or
// "500ms" (units ns, us, ms, s, m, h). "0" is accepted; any other number
// without a unit is an error.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New(`empty duration; write e.g. "30s"`)
	}
	if bareNumber.MatchString(s) {
		if strings.Trim(s, "+-0.") == "" {
			return 0, nil
		}
		return 0, fmt.Errorf(`%q has no unit; write e.g. "%ss" or "%sms"`, s, s, s)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf(`%q is not a duration; write e.g. "30s", "1m30s" or "500ms"`, s)
	}
	if v < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return Duration(v), nil
}

// ByteSize is a size in bytes, written in YAML as a plain integer or an
// integer with a unit: B; KB, MB, GB, TB (powers of 1000); KiB, MiB, GiB, TiB
// (powers of 1024). Units are case-insensitive, the "B" may be left out
// ("16Mi", "1G") and a space may separate number and unit.
type ByteSize int64

// String formats b with the largest binary unit that divides it exactly,
// e.g. "16MiB", "1000B".
func (b ByteSize) String() string {
	units := []struct {
		name string
		size int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}
	for _, u := range units {
		if b != 0 && int64(b)%u.size == 0 {
			return strconv.FormatInt(int64(b)/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}

// MarshalText formats b like String.
func (b ByteSize) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalText parses text with ParseByteSize.
func (b *ByteSize) UnmarshalText(text []byte) error {
	v, err := ParseByteSize(string(text))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

var byteUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
	"ki": 1 << 10, "kib": 1 << 10, "mi": 1 << 20, "mib": 1 << 20,
	"gi": 1 << 30, "gib": 1 << 30, "ti": 1 << 40, "tib": 1 << 40,
}

// ParseByteSize parses a non-negative size such as "16MiB", "512KiB", "1GB"
// or "1048576" (bytes); see ByteSize for the units.
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	unit := strings.ToLower(strings.TrimSpace(t[i:]))
	mult, ok := byteUnits[unit]
	if i == 0 || !ok {
		return 0, fmt.Errorf(`%q is not a size; write a whole number of bytes or one with a unit, e.g. "16MiB", "512KiB", "1GB"`, s)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return ByteSize(n * mult), nil
}
