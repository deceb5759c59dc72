package event

// Calendar arithmetic and decimal validation shared by the encoders and by
// sources that build Date, Timestamp and Decimal values. Dates are in the
// proleptic Gregorian calendar with astronomical year numbering: year 0 is
// 1 BC, year -1 is 2 BC (so Postgres "0044-03-15 BC" is year -43).

// The epoch day arithmetic follows Howard Hinnant's days_from_civil and
// civil_from_days: days are counted in 400-year eras of 146097 days that
// start on March 1, so leap days fall at the end of each computed year.
const (
	daysPerEra      = 146097
	daysToUnixEpoch = 719468 // days from 0000-03-01 to 1970-01-01
)

// DaysFromCivil returns the number of days from 1970-01-01 to the date
// y-m-d (negative before it). Months and days outside their usual range are
// normalized the way time.Date normalizes them: month 13 is January of the
// next year, day 0 the last day of the previous month. The result is exact
// for every date whose day count fits in an int64 (years within about
// ±2.5e16); beyond that it wraps silently.
func DaysFromCivil(y, m, d int) int64 {
	yy := int64(y)
	mm := int64(m) - 1 // 0-based month
	q := floorDiv(mm, 12)
	yy += q
	mm -= q * 12 // 0..11
	// Count years from March 1 so the leap day is the last day of a year.
	var mp int64 // month index from March: Mar=0 … Feb=11
	if mm >= 2 {
		mp = mm - 2
	} else {
		mp = mm + 10
		yy--
	}
	era := floorDiv(yy, 400)
	yoe := yy - era*400                    // year of the era, [0, 399]
	doy := (153*mp + 2) / 5                // day of the year of the month's 1st, [0, 336]
	doe := yoe*365 + yoe/4 - yoe/100 + doy // day of the era, [0, 146096]
	// Intermediate overflow wraps harmlessly: the sum is exact whenever the
	// result fits in an int64.
	return era*daysPerEra + doe - daysToUnixEpoch + (int64(d) - 1)
}

// CivilFromDays returns the date that is days days after 1970-01-01 (before
// it when negative): the inverse of DaysFromCivil. It is exact for every
// int64 (years within about ±2.5e16, which need 64-bit ints).
func CivilFromDays(days int64) (y, m, d int) {
	// Split days into whole eras and a remainder first so that shifting the
	// origin to 0000-03-01 cannot overflow, even for math.MaxInt64.
	era := floorDiv(days, daysPerEra)
	z := days - era*daysPerEra + daysToUnixEpoch // [719468, 865564]; exact even when era*daysPerEra wraps
	era += z / daysPerEra
	// The rest is non-negative: unsigned division by constants is cheaper.
	doe := uint64(z % daysPerEra)                                  // day of the era, [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/(daysPerEra-1)) / 365 // year of the era, [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)                       // day of the year from March 1, [0, 365]
	mp := (5*doy + 2) / 153                                        // month from March, [0, 11]
	dd := doy - (153*mp+2)/5 + 1                                   // [1, 31]
	mm := mp + 3
	if mm > 12 {
		mm -= 12
	}
	yy := int64(yoe) + era*400
	if mm <= 2 {
		yy++
	}
	return int(yy), int(mm), int(dd)
}

// floorDiv returns a/b rounded toward negative infinity; b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// maxDecimalLen bounds the text CanonicalDecimal produces when it expands an
// exponent. It exceeds what any SQL decimal holds (Postgres numeric: 131072
// digits before the point and 16383 after) and keeps "1e999999999" from
// asking for a gigabyte.
const maxDecimalLen = 1 << 18

// CanonicalDecimal validates the decimal literal s and returns its canonical
// text, the form KindDecimal values hold: an optional '-', the integer digits
// without leading zeros (a single "0" when there are none), and, when the
// literal has fractional digits, '.' and those digits with trailing zeros
// kept, since they carry the scale ("12.3400" stays "12.3400").
//
// s is an optional sign ('+' or '-'), digits with an optional '.' and
// fraction (".5" and "5." are accepted; at least one digit is required) and
// an optional exponent ('e' or 'E', an optional sign, digits), which is
// expanded into plain digits: "1.50e2" → "150", "15e-1" → "1.5",
// "1e3" → "1000". A zero loses its sign ("-0.00" → "0.00"). "NaN",
// "Infinity" and "Inf", in any letter case and the latter two with an
// optional sign, become "NaN", "Infinity" and "-Infinity". Whitespace and
// anything else is rejected, as is a literal whose expansion would be longer
// than 262144 bytes. When s is already canonical it is returned as is,
// without allocating.
func CanonicalDecimal(s string) (string, bool) {
	if len(s) == 0 {
		return "", false
	}
	i := 0
	neg := false
	signed := false
	switch s[0] {
	case '-':
		neg, signed, i = true, true, 1
	case '+':
		signed, i = true, 1
	}
	if i < len(s) && (s[i] == 'n' || s[i] == 'N' || s[i] == 'i' || s[i] == 'I') {
		return canonicalSpecial(s[i:], neg, signed)
	}

	// Integer digits, fraction digits and exponent.
	intStart := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intPart := s[intStart:i]
	fracPart := ""
	hasPoint := false
	if i < len(s) && s[i] == '.' {
		hasPoint = true
		i++
		fracStart := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		fracPart = s[fracStart:i]
	}
	if len(intPart)+len(fracPart) == 0 {
		return "", false
	}
	var exp int64
	hasExp := false
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		hasExp = true
		i++
		expNeg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			expNeg = s[i] == '-'
			i++
		}
		expStart := i
		for i < len(s) && isDigit(s[i]) {
			if exp > maxDecimalLen { // keep accumulating digits without overflow
				exp = maxDecimalLen + 1
			} else {
				exp = exp*10 + int64(s[i]-'0')
			}
			i++
		}
		if i == expStart {
			return "", false
		}
		if expNeg {
			exp = -exp
		}
	}
	if i != len(s) {
		return "", false
	}

	allZero := allZeros(intPart) && allZeros(fracPart)
	canonical := !hasExp && !(signed && !neg) && !(neg && allZero) &&
		len(intPart) > 0 && !(len(intPart) > 1 && intPart[0] == '0') &&
		!(hasPoint && len(fracPart) == 0)
	if canonical {
		return s, true
	}

	// The value is 0.D × 10^point, D being the digits without the point.
	point := int64(len(intPart)) + exp
	nFrac := int64(len(fracPart)) - exp // fractional digits of the result
	if nFrac < 0 {
		nFrac = 0
	}
	nInt := point // integer digits of the result, before leading zeros are dropped
	if nInt < 1 {
		nInt = 1
	}
	if nInt+nFrac+2 > maxDecimalLen {
		return "", false
	}

	digits := make([]byte, 0, len(intPart)+len(fracPart))
	digits = append(digits, intPart...)
	digits = append(digits, fracPart...)
	out := make([]byte, 0, nInt+nFrac+2)
	if neg && !allZero {
		out = append(out, '-')
	}
	// Integer part: digits[:point], zero-padded on the right when point
	// exceeds the digits, with leading zeros dropped.
	lead := true
	for k := int64(0); k < point; k++ {
		c := byte('0')
		if k < int64(len(digits)) {
			c = digits[k]
		}
		if lead && c == '0' {
			continue
		}
		lead = false
		out = append(out, c)
	}
	if lead {
		out = append(out, '0')
	}
	if nFrac > 0 {
		out = append(out, '.')
		for k := point; k < point+nFrac; k++ {
			c := byte('0')
			if k >= 0 && k < int64(len(digits)) {
				c = digits[k]
			}
			out = append(out, c)
		}
	}
	return string(out), true
}

// canonicalSpecial handles the NaN and infinity spellings after the sign.
func canonicalSpecial(s string, neg, signed bool) (string, bool) {
	switch {
	case equalFold(s, "nan") && !signed:
		return "NaN", true
	case equalFold(s, "infinity") || equalFold(s, "inf"):
		if neg {
			return "-Infinity", true
		}
		return "Infinity", true
	}
	return "", false
}

// equalFold reports whether s equals the lower-case ASCII word w ignoring case.
func equalFold(s, w string) bool {
	if len(s) != len(w) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c != w[i] {
			return false
		}
	}
	return true
}

// allZeros reports whether the digits ds are all '0'.
func allZeros(ds string) bool {
	for i := 0; i < len(ds); i++ {
		if ds[i] != '0' {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
