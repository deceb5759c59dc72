package mysql

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cdcd-dev/cdcd/event"
	gm "github.com/go-mysql-org/go-mysql/mysql"
)

// Flavors of server.
const (
	flavorMySQL   = "mysql"
	flavorMariaDB = "mariadb"
)

// serverInfo is what Open learns about the server.
type serverInfo struct {
	flavor   string
	version  string
	id       uint32 // @@server_id
	uuid     string // @@server_uuid (MySQL)
	lower    bool   // lower_case_table_names != 0
	gtidMode bool   // GTIDs usable for resuming (MariaDB: always; MySQL: gtid_mode ON)
	user     string // CURRENT_USER(), quoted for GRANT: 'user'@'host'
}

// sourceID is the server's identity in events: the server UUID on MySQL,
// the server id on MariaDB (which has no UUID).
func (s serverInfo) sourceID() string {
	if s.flavor == flavorMySQL && s.uuid != "" {
		return s.uuid
	}
	return strconv.FormatUint(uint64(s.id), 10)
}

// flavorOf tells MariaDB from MySQL by SELECT VERSION().
func flavorOf(version string) string {
	if strings.Contains(strings.ToLower(version), "mariadb") {
		return flavorMariaDB
	}
	return flavorMySQL
}

func detectServer(ctx context.Context, m *metaConn) (serverInfo, error) {
	var si serverInfo
	r, err := m.one(ctx, "SELECT VERSION(), @@server_id, @@lower_case_table_names, CURRENT_USER()")
	if err != nil {
		return si, fmt.Errorf("mysql source: identify server: %w", err)
	}
	si.version = r.str(0)
	si.flavor = flavorOf(si.version)
	id, _ := strconv.ParseUint(r.str(1), 10, 32)
	si.id = uint32(id)
	si.lower = r.str(2) != "0"
	si.user = quoteAccount(r.str(3))
	if si.flavor == flavorMariaDB {
		si.gtidMode = true
		return si, nil
	}
	r, err = m.one(ctx, "SELECT @@server_uuid, @@gtid_mode")
	if err != nil {
		return si, fmt.Errorf("mysql source: identify server: %w", err)
	}
	si.uuid = r.str(0)
	si.gtidMode = strings.EqualFold(r.str(1), "ON")
	return si, nil
}

// quoteAccount renders CURRENT_USER()'s "user@host" as 'user'@'host'.
func quoteAccount(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return quoteString(s)
	}
	return quoteString(s[:at]) + "@" + quoteString(s[at+1:])
}

func logBinError() error {
	return &PermanentError{
		What: "the binary log is off (log_bin = OFF)",
		Fix:  "start the server with log_bin (MariaDB: log_bin = mysql-bin; MySQL 8 has it on by default unless --skip-log-bin / --disable-log-bin) in my.cnf, with binlog_format = ROW and binlog_row_image = FULL, and restart it",
	}
}

func binlogFormatError(format string) error {
	return &PermanentError{
		What: fmt.Sprintf("binlog_format is %s, row-based change capture needs ROW", format),
		Fix:  "SET GLOBAL binlog_format = 'ROW'; (sessions opened before keep their format: reconnect the applications) and binlog_format = ROW in my.cnf so that it survives a restart",
	}
}

func binlogRowImageError(image string) error {
	return &PermanentError{
		What: fmt.Sprintf("binlog_row_image is %s, change capture needs FULL (every column of the old and new row)", image),
		Fix:  "SET GLOBAL binlog_row_image = 'FULL'; and binlog_row_image = FULL in my.cnf",
	}
}

func rowValueOptionsError(opts string) error {
	return &PermanentError{
		What: fmt.Sprintf("binlog_row_value_options is %q: partial JSON updates cannot be decoded into whole rows", opts),
		Fix:  "SET GLOBAL binlog_row_value_options = ''; and in my.cnf",
	}
}

func privilegeError(user, privilege string, flavor string, err error) error {
	grant := privilege
	if flavor == flavorMariaDB && privilege == "REPLICATION CLIENT" {
		grant = "BINLOG MONITOR" // the 10.5+ name; REPLICATION CLIENT is its alias
	}
	return &PermanentError{
		What: fmt.Sprintf("user %s lacks the %s privilege", user, privilege),
		Fix:  fmt.Sprintf("GRANT %s ON *.* TO %s;", grant, user),
		Err:  err,
	}
}

func selectPrivilegeError(user string, t event.TableID, err error) error {
	return &PermanentError{
		What: fmt.Sprintf("user %s may not SELECT from table %s", user, t),
		Fix:  fmt.Sprintf("GRANT SELECT ON %s.%s TO %s;", quoteIdent(t.Namespace), quoteIdent(t.Name), user),
		Err:  err,
	}
}

func missingTableError(pattern, user string) error {
	return &PermanentError{
		What: fmt.Sprintf("table pattern %q matches no table the user %s can see", pattern, user),
		Fix:  "create the table, correct source.tables (\"db.table\", globs allowed), or grant the user SELECT on it",
	}
}

func serverIDClashError(id uint32, who string) error {
	return &PermanentError{
		What: fmt.Sprintf("server id %d is already used by %s", id, who),
		Fix:  "set source.mysql.server_id to a number no other replica of this server (and not the server itself) uses; SHOW SLAVE HOSTS lists the replicas",
	}
}

func purgedError(file, oldest string) error {
	return &PermanentError{
		What: fmt.Sprintf("binlog %s is no longer on the server; the oldest is %s: the changes since the checkpoint are lost", file, oldest),
		Fix:  "re-snapshot with snapshot: when_needed, or delete the pipeline's checkpoint (and clear the target) and restart; raise binlog_expire_logs_seconds (MariaDB: expire_logs_days) so that it does not happen again",
	}
}

func unsupportedTypesError(cols []string) error {
	return &PermanentError{
		What: "columns of types the source cannot decode: " + strings.Join(cols, ", "),
		Fix:  "exclude the tables from source.tables, or change the column types",
	}
}

// checkBinlog checks that the server writes a row-based binary log with
// full row images.
func checkBinlog(ctx context.Context, m *metaConn, si serverInfo) error {
	r, err := m.one(ctx, "SELECT @@GLOBAL.log_bin, @@GLOBAL.binlog_format, @@GLOBAL.binlog_row_image")
	if err != nil {
		return fmt.Errorf("mysql source: read binlog settings: %w", err)
	}
	if v := r.str(0); v != "1" && !strings.EqualFold(v, "ON") {
		return logBinError()
	}
	if f := r.str(1); !strings.EqualFold(f, "ROW") {
		return binlogFormatError(strings.ToUpper(f))
	}
	if img := r.str(2); !strings.EqualFold(img, "FULL") {
		return binlogRowImageError(strings.ToUpper(img))
	}
	if si.flavor == flavorMySQL {
		if r, err := m.one(ctx, "SELECT @@GLOBAL.binlog_row_value_options"); err == nil && r.str(0) != "" {
			return rowValueOptionsError(r.str(0))
		}
	}
	return nil
}

// binlogFile is one entry of SHOW BINARY LOGS.
type binlogFile struct {
	name string
	size uint64
}

// binaryLogs lists the binlogs on the server, oldest first. It needs
// REPLICATION CLIENT (MariaDB: BINLOG MONITOR).
func binaryLogs(ctx context.Context, m *metaConn, si serverInfo) ([]binlogFile, error) {
	rows, err := m.query(ctx, "SHOW BINARY LOGS")
	if err != nil {
		if code := myErrorCode(err); code == gm.ER_SPECIFIC_ACCESS_DENIED_ERROR || code == gm.ER_ACCESS_DENIED_ERROR {
			return nil, privilegeError(si.user, "REPLICATION CLIENT", si.flavor, err)
		}
		if myErrorCode(err) == 1381 { // ER_NO_BINARY_LOGGING
			return nil, logBinError()
		}
		return nil, fmt.Errorf("mysql source: SHOW BINARY LOGS: %w", err)
	}
	out := make([]binlogFile, len(rows))
	for i, r := range rows {
		size, _ := strconv.ParseUint(r.str(1), 10, 64)
		out[i] = binlogFile{name: r.str(0), size: size}
	}
	return out, nil
}

// checkNotPurged checks that file (of a checkpoint) is still on the server.
func checkNotPurged(files []binlogFile, file string) error {
	if len(files) == 0 {
		return purgedError(file, "(none)")
	}
	for _, f := range files {
		if f.name == file {
			return nil
		}
	}
	return purgedError(file, files[0].name)
}

// checkServerID checks that no other replica registered with the server
// uses id; a replica that just disconnected (our own previous stream) may
// linger for a moment, so a clash is re-checked for a few seconds.
func checkServerID(ctx context.Context, m *metaConn, si serverInfo, id uint32) error {
	if id == si.id {
		return serverIDClashError(id, "the server itself (@@server_id)")
	}
	deadline := time.Now().Add(serverIDWait)
	for {
		rows, err := m.query(ctx, "SHOW SLAVE HOSTS")
		if err != nil {
			// MariaDB 10.5+ wants REPLICATION MASTER ADMIN for it; without
			// it the server rejects a clash itself by disconnecting the
			// older replica, which the stream reports.
			return nil
		}
		clash := ""
		for _, r := range rows {
			if r.str(0) == strconv.FormatUint(uint64(id), 10) {
				clash = fmt.Sprintf("the replica at %s:%s", r.str(1), r.str(2))
			}
		}
		if clash == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return serverIDClashError(id, clash)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// serverIDWait is how long Open waits for a replica with our server id to
// go away.
const serverIDWait = 3 * time.Second

// binlogPos is a position in the binary log with the GTID set of what is
// before it.
type binlogPos struct {
	file string
	pos  uint32
	gtid string
}

// currentPos returns the server's current binlog position and GTID set.
func currentPos(ctx context.Context, m *metaConn, si serverInfo) (binlogPos, error) {
	var p binlogPos
	rows, err := m.query(ctx, "SHOW MASTER STATUS")
	if err != nil && si.flavor == flavorMySQL {
		rows, err = m.query(ctx, "SHOW BINARY LOG STATUS") // MySQL 8.4 removed SHOW MASTER STATUS
	}
	if err != nil {
		if code := myErrorCode(err); code == gm.ER_SPECIFIC_ACCESS_DENIED_ERROR || code == gm.ER_ACCESS_DENIED_ERROR {
			return p, privilegeError(si.user, "REPLICATION CLIENT", si.flavor, err)
		}
		return p, fmt.Errorf("mysql source: read the binlog position: %w", err)
	}
	if len(rows) == 0 {
		return p, logBinError()
	}
	p.file = rows[0].str(0)
	pos, _ := strconv.ParseUint(rows[0].str(1), 10, 32)
	p.pos = uint32(pos)
	switch si.flavor {
	case flavorMariaDB:
		r, err := m.one(ctx, "SELECT BINLOG_GTID_POS(?, ?)", p.file, p.pos)
		if err != nil {
			return p, fmt.Errorf("mysql source: BINLOG_GTID_POS: %w", err)
		}
		p.gtid = r.str(0)
	default:
		if len(rows[0]) >= 5 {
			p.gtid = strings.ReplaceAll(strings.ReplaceAll(rows[0].str(4), "\n", ""), " ", "")
		}
	}
	return p, nil
}

// ddlStatements are the status counters of the statements that change
// tables.
var ddlStatements = []string{"Com_alter_table", "Com_create_table", "Com_drop_table", "Com_rename_table",
	"Com_truncate", "Com_create_db", "Com_alter_db", "Com_drop_db"}

// ddlCount returns how many DDL statements the server has run.
func ddlCount(ctx context.Context, m *metaConn) (uint64, error) {
	q := "SHOW GLOBAL STATUS WHERE Variable_name IN ('" + strings.Join(ddlStatements, "','") + "')"
	rows, err := m.query(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("mysql source: read DDL counters: %w", err)
	}
	var n uint64
	for _, r := range rows {
		v, _ := strconv.ParseUint(r.str(1), 10, 64)
		n += v
	}
	return n, nil
}

// systemSchemas are never captured.
var systemSchemas = []string{"mysql", "information_schema", "performance_schema", "sys"}

// listTables returns the base tables visible to the user, outside the
// system schemas.
func listTables(ctx context.Context, m *metaConn, c *catalog) ([]event.TableID, error) {
	rows, err := m.query(ctx, `SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES
		WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')
		AND TABLE_SCHEMA NOT IN ('`+strings.Join(systemSchemas, "','")+`')`)
	if err != nil {
		return nil, fmt.Errorf("mysql source: list tables: %w", err)
	}
	out := make([]event.TableID, len(rows))
	for i, r := range rows {
		out[i] = c.id(r.str(0), r.str(1))
	}
	slices.SortFunc(out, func(a, b event.TableID) int {
		if a.Namespace != b.Namespace {
			return strings.Compare(a.Namespace, b.Namespace)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// resolveTables checks that every pattern matches one of tables and
// returns the captured ones.
func resolveTables(c *catalog, tables []event.TableID, user string) ([]event.TableID, error) {
	var out []event.TableID
	for _, p := range c.pats {
		found := false
		for _, t := range tables {
			if p.match(t.Namespace, t.Name) {
				found = true
				break
			}
		}
		if !found {
			return nil, missingTableError(p.text, user)
		}
	}
	for _, t := range tables {
		if c.captured(t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// checkSelect checks that the user may read every captured table.
func checkSelect(ctx context.Context, m *metaConn, user string, tables []event.TableID) error {
	for _, t := range tables {
		_, err := m.query(ctx, "SELECT * FROM "+quoteIdent(t.Namespace)+"."+quoteIdent(t.Name)+" LIMIT 0")
		if err != nil {
			switch myErrorCode(err) {
			case gm.ER_TABLEACCESS_DENIED_ERROR, gm.ER_COLUMNACCESS_DENIED_ERROR, gm.ER_DBACCESS_DENIED_ERROR:
				return selectPrivilegeError(user, t, err)
			}
			return fmt.Errorf("mysql source: read %s: %w", t, err)
		}
	}
	return nil
}

// loadShapes reads the shapes of tables (captured, existing) from
// information_schema.
func loadShapes(ctx context.Context, m *metaConn, si serverInfo, c *catalog, tables []event.TableID) (map[event.TableID]*tableShape, map[string]string, error) {
	want := map[event.TableID]bool{}
	dbs := map[string]bool{}
	for _, t := range tables {
		want[t] = true
		dbs[t.Namespace] = true
	}
	out := map[event.TableID]*tableShape{}
	dbCharset := map[string]string{}
	if len(tables) == 0 {
		return out, dbCharset, nil
	}
	var dbList []string
	for db := range dbs {
		dbList = append(dbList, quoteString(db))
	}
	in := "(" + strings.Join(dbList, ",") + ")"
	if si.lower {
		in = "(" + strings.ToLower(strings.Join(dbList, ",")) + ")"
	}
	schemaCol := "TABLE_SCHEMA"
	if si.lower {
		schemaCol = "LOWER(TABLE_SCHEMA)"
	}

	rows, err := m.query(ctx, `SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA`)
	if err != nil {
		return nil, nil, fmt.Errorf("mysql source: read database charsets: %w", err)
	}
	for _, r := range rows {
		db := c.id(r.str(0), "").Namespace
		if c.capturedDB(db) {
			dbCharset[db] = normCharset(r.str(1))
		}
	}

	rows, err = m.query(ctx, `SELECT t.TABLE_SCHEMA, t.TABLE_NAME, c.CHARACTER_SET_NAME
		FROM information_schema.TABLES t
		LEFT JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY c ON c.COLLATION_NAME = t.TABLE_COLLATION
		WHERE t.`+schemaCol+` IN `+in)
	if err != nil {
		return nil, nil, fmt.Errorf("mysql source: read table charsets: %w", err)
	}
	for _, r := range rows {
		id := c.id(r.str(0), r.str(1))
		if want[id] && out[id] == nil {
			out[id] = &tableShape{Table: id, Charset: normCharset(r.str(2))}
		}
	}

	rows, err = m.query(ctx, `SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE,
		CHARACTER_SET_NAME, IS_NULLABLE, CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION
		FROM information_schema.COLUMNS WHERE `+schemaCol+` IN `+in+`
		ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`)
	if err != nil {
		return nil, nil, fmt.Errorf("mysql source: read columns: %w", err)
	}
	for _, r := range rows {
		id := c.id(r.str(0), r.str(1))
		t := out[id]
		if t == nil {
			continue
		}
		col := column{
			Name:     r.str(2),
			Data:     strings.ToLower(r.str(3)),
			Type:     strings.ToLower(r.str(4)),
			Charset:  normCharset(r.str(5)),
			Nullable: r.str(6) == "YES",
		}
		col.Unsigned = strings.Contains(col.Type, " unsigned")
		switch col.Data {
		case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
			col.Charset = "binary"
		}
		switch col.Data {
		case "char", "binary":
			n, _ := strconv.Atoi(r.str(7))
			col.Length = n
		case "bit":
			n, _ := strconv.Atoi(r.str(8))
			col.Length = n
		case "enum", "set":
			elems, err := parseElems(r.str(4))
			if err != nil {
				return nil, nil, fmt.Errorf("mysql source: column %s.%s: %w", id, col.Name, err)
			}
			col.Elems = elems
			col.Type = elemsType(col.Data, elems)
		}
		t.Columns = append(t.Columns, col)
	}

	rows, err = m.query(ctx, `SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM information_schema.STATISTICS
		WHERE INDEX_NAME = 'PRIMARY' AND `+schemaCol+` IN `+in+` ORDER BY SEQ_IN_INDEX`)
	if err != nil {
		return nil, nil, fmt.Errorf("mysql source: read primary keys: %w", err)
	}
	for _, r := range rows {
		if t := out[c.id(r.str(0), r.str(1))]; t != nil {
			if i := t.column(r.str(2)); i >= 0 {
				t.Columns[i].Key = true
			}
		}
	}

	if si.flavor == flavorMariaDB {
		// MariaDB's JSON is a LONGTEXT with a CHECK (json_valid(`col`)).
		rows, err = m.query(ctx, `SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE
			FROM information_schema.CHECK_CONSTRAINTS WHERE `+strings.Replace(schemaCol, "TABLE_SCHEMA", "CONSTRAINT_SCHEMA", 1)+` IN `+in)
		if err != nil {
			return nil, nil, fmt.Errorf("mysql source: read check constraints: %w", err)
		}
		for _, r := range rows {
			t := out[c.id(r.str(0), r.str(1))]
			if t == nil {
				continue
			}
			if i := t.column(r.str(2)); i >= 0 && t.Columns[i].Data == "longtext" &&
				strings.EqualFold(strings.ReplaceAll(r.str(3), " ", ""), "json_valid(`"+strings.ReplaceAll(t.Columns[i].Name, "`", "``")+"`)") {
				t.Columns[i].Data, t.Columns[i].Type = "json", "json"
			}
		}
	}
	for id, t := range out {
		if len(t.Columns) == 0 {
			delete(out, id) // dropped meanwhile
		}
	}
	return out, dbCharset, nil
}

// elemRe matches one quoted member of an ENUM or SET column type.
var elemRe = regexp.MustCompile(`'((?:[^'\\]|''|\\.)*)'`)

// parseElems returns the members of an ENUM or SET column type as
// information_schema.COLUMNS.COLUMN_TYPE shows them: string literals with
// quotes doubled and backslashes escaped.
func parseElems(colType string) ([]string, error) {
	open := strings.IndexByte(colType, '(')
	end := strings.LastIndexByte(colType, ')')
	if open < 0 || end < open {
		return nil, fmt.Errorf("cannot read the members of %q", colType)
	}
	var out []string
	for _, m := range elemRe.FindAllStringSubmatch(colType[open+1:end], -1) {
		out = append(out, unescapeSQL(m[1]))
	}
	return out, nil
}

// unescapeSQL resolves the escapes of the body of a MySQL string literal.
func unescapeSQL(s string) string {
	if !strings.ContainsAny(s, `'\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' && i+1 < len(s) && s[i+1] == '\'':
			b.WriteByte('\'')
			i++
		case c == '\\' && i+1 < len(s):
			i++
			switch s[i] {
			case '0':
				b.WriteByte(0)
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'b':
				b.WriteByte('\b')
			case 'Z':
				b.WriteByte(0x1a)
			default: // a backslash, a quote and any other character stand for themselves
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
