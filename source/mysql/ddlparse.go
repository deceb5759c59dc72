package mysql

import (
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/charset"
)

// The TiDB parser checks character set and collation names against
// process-wide tables that only list what TiDB supports (utf8, utf8mb4,
// latin1, ascii, binary, gbk, gb18030) and MySQL's collations. A DDL
// statement of a MySQL or MariaDB server may name any of theirs, so a name
// the parser rejects is added to its tables and the statement parsed
// again. parserTables guards those tables: parses hold it for reading,
// additions for writing.
var parserTables sync.RWMutex

var unknownName = regexp.MustCompile(`Unknown (character set|collation): '([^']+)'`)

// Stand-in types: the parser knows neither the spatial types nor
// MariaDB's INET4, INET6 and UUID. A statement where it stops at one has
// it replaced by VARBINARY(65001 + its index here) and is parsed again;
// fieldTypeColumn turns those back (when the statement did not hold such
// a VARBINARY of its own).
var standIns = []string{"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
	"multipolygon", "geometrycollection", "geomcollection", "inet4", "inet6", "uuid"}

const standInBase = 65001

var syntaxAt = regexp.MustCompile(`line (\d+) column (\d+) near "([A-Za-z0-9_]+)`)

// parseSQL parses query with p, teaching the parser the character sets
// and collations it does not know and standing in for the types it does
// not know. standIn reports whether the statement holds stand-ins.
func parseSQL(p *parser.Parser, query string) (stmts []ast.StmtNode, standIn bool, err error) {
	own := strings.Contains(strings.ToLower(query), "varbinary(650")
	for attempt := 0; ; attempt++ {
		parserTables.RLock()
		stmts, _, err = p.Parse(query, "", "")
		parserTables.RUnlock()
		if err == nil {
			return stmts, standIn, nil
		}
		if attempt >= 64 {
			return nil, false, err
		}
		if !own {
			if q, ok := replaceStandIn(query, err.Error()); ok {
				query, standIn = q, true
				continue
			}
		}
		m := unknownName.FindStringSubmatch(err.Error())
		if m == nil || attempt >= 8 {
			return nil, false, err
		}
		name := strings.ToLower(m[2])
		if len(name) > 64 || !isIdentifier(name) {
			return nil, false, err
		}
		parserTables.Lock()
		if m[1] == "character set" {
			addParserCharset(name)
		} else {
			addParserCollation(name)
		}
		parserTables.Unlock()
	}
}

// replaceStandIn replaces the type the parser stopped at (per its error
// message) by its stand-in.
func replaceStandIn(query, msg string) (string, bool) {
	m := syntaxAt.FindStringSubmatch(msg)
	if m == nil {
		return "", false
	}
	word := strings.ToLower(m[3])
	idx := -1
	for i, t := range standIns {
		if t == word {
			idx = i
		}
	}
	if idx < 0 && word != "invisible" {
		return "", false
	}
	line, _ := strconv.Atoi(m[1])
	col, _ := strconv.Atoi(m[2])
	start := 0
	for l := 1; l < line; l++ {
		nl := strings.IndexByte(query[start:], '\n')
		if nl < 0 {
			return "", false
		}
		start += nl + 1
	}
	// The column is where the word ends, counted from the line start on
	// the first line and from the newline on the others.
	end := start + col
	if line > 1 {
		end--
	}
	at := end - len(word)
	if at < start || end > len(query) || !strings.EqualFold(query[at:end], word) {
		return "", false
	}
	if idx < 0 {
		// INVISIBLE columns (MySQL 8.0.23+, MariaDB) are in the row
		// images like any other: the attribute does not matter here.
		return query[:at] + query[end:], true
	}
	return query[:at] + "varbinary(" + strconv.Itoa(standInBase+idx) + ")" + query[end:], true
}

func isIdentifier(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isWordByte(s[i]) {
			return false
		}
	}
	return s != ""
}

// nextCollationID numbers the collations added to the parser's tables,
// above MySQL's.
var nextCollationID = 100000

func addParserCharset(name string) {
	if _, ok := charset.CharacterSetInfos[name]; ok {
		return
	}
	def := name + "_general_ci"
	charset.AddCharset(&charset.Charset{Name: name, DefaultCollation: def, Collations: map[string]*charset.Collation{},
		Desc: name, Maxlen: 4})
	if _, err := charset.GetCollationByName(def); err != nil {
		addParserCollation(def)
	}
}

func addParserCollation(name string) {
	if _, err := charset.GetCollationByName(name); err == nil {
		return
	}
	cs := charsetOfCollation(name)
	if _, ok := charset.CharacterSetInfos[cs]; !ok {
		addParserCharset(cs)
	}
	nextCollationID++
	charset.AddCollation(&charset.Collation{ID: nextCollationID, CharsetName: cs, Name: name, Sortlen: 1, PadAttribute: charset.PadSpace})
}
