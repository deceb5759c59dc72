package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// Option changes how Load and LoadBytes read files.
type Option func(*options)

type options struct {
	lookupEnv func(string) (string, bool)
}

// WithLookupEnv sets where ${VAR} references are looked up. The default is
// os.LookupEnv; tests inject a map. f must be safe to call from the
// goroutine that calls Load.
func WithLookupEnv(f func(string) (string, bool)) Option {
	return func(o *options) {
		if f != nil {
			o.lookupEnv = f
		}
	}
}

func newOptions(opts []Option) options {
	o := options{lookupEnv: os.LookupEnv}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// LoadBytes parses data as the single pipeline of a file called name (used
// in errors and Pipeline.File): expands variables, decodes, applies
// defaults and validates. On any problem it returns a nil pipeline and an
// Errors listing all of them. It is safe for concurrent use.
func LoadBytes(name string, data []byte, opts ...Option) (*Pipeline, error) {
	o := newOptions(opts)
	l, errs := loadBytes(name, data, o)
	if len(errs) > 0 {
		errs.sort()
		return nil, errs
	}
	return l.p, nil
}

// loadBytes decodes one file, returning the problems found (unsorted).
func loadBytes(name string, data []byte, o options) (*loaded, Errors) {
	d := &decoder{file: name, lookup: o.lookupEnv, explained: map[string]bool{}}
	root := d.parse(data)
	if root == nil {
		return nil, d.errs
	}
	if root.Kind != yaml.MappingNode {
		d.errorf(root, "", "the top level must be a mapping with keys %s; got %s", oneOf(topKeys), describe(root))
		return nil, d.errs
	}
	return d.pipeline(root), d.errs
}

// Load reads the pipeline file at path, or, when path is a directory, every
// *.yaml and *.yml file directly in it (sorted by name, skipping names that
// start with '.'; symbolic links are followed), one pipeline per file. It
// expands variables, applies defaults, validates each file and then the
// set: pipeline names must be unique, and the files must agree on the
// admin block, which the process shares (a file that leaves a key of it
// out gets the value another file sets). It returns the pipelines in file
// order or, on any problem, nil and an Errors listing all of them. It is
// safe for concurrent use.
func Load(path string, opts ...Option) ([]*Pipeline, error) {
	o := newOptions(opts)
	files, errs := pipelineFiles(path)
	if len(errs) > 0 {
		return nil, errs
	}
	var all []*loaded
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			errs = append(errs, &Error{File: file, Msg: fmt.Sprintf("cannot read the file: %v", err), Err: err})
			continue
		}
		l, ferrs := loadBytes(file, data, o)
		errs = append(errs, ferrs...)
		if l != nil {
			all = append(all, l)
		}
	}
	errs = append(errs, crossCheck(all)...)
	if len(errs) > 0 {
		errs.sort()
		return nil, errs
	}
	out := make([]*Pipeline, len(all))
	for i, l := range all {
		out[i] = l.p
	}
	return out, nil
}

// pipelineFiles lists the files Load reads for path.
func pipelineFiles(path string) ([]string, Errors) {
	fail := func(msg string, err error) ([]string, Errors) {
		return nil, Errors{{File: path, Msg: msg, Err: err}}
	}
	st, err := os.Stat(path)
	if err != nil {
		return fail(fmt.Sprintf("cannot read the configuration: %v", err), err)
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return fail(fmt.Sprintf("cannot list the configuration directory: %v", err), err)
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		ext := strings.ToLower(filepath.Ext(name))
		if strings.HasPrefix(name, ".") || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		full := filepath.Join(path, name)
		if st, err := os.Stat(full); err != nil || st.IsDir() {
			continue
		}
		files = append(files, full)
	}
	if len(files) == 0 {
		return fail("the directory holds no *.yaml or *.yml files; expected one pipeline per file", nil)
	}
	return files, nil
}

// crossCheck validates what spans the files of a directory, and shares the
// admin settings.
func crossCheck(all []*loaded) Errors {
	var errs Errors
	errAt := func(l *loaded, n *yaml.Node, line int, key, format string, args ...any) {
		e := &Error{File: l.p.File, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}
		if n != nil {
			e.Line, e.Column = n.Line, n.Column
		}
		errs = append(errs, e)
	}
	at := func(l *loaded) string { return fmt.Sprintf("%s:%d", l.p.File, l.p.Line) }

	names := map[string]*loaded{}
	dupName := map[*loaded]bool{}
	for _, l := range all {
		if !l.nameOK {
			continue
		}
		if prev, dup := names[l.p.Name]; dup {
			dupName[l] = true
			errAt(l, l.nameAt, l.p.Line, "pipeline", "%s is also the name of the pipeline in %s; names must be unique (they name the replication slot, the Kafka transactional id and the checkpoint)", quote(l.p.Name), at(prev))
			continue
		}
		names[l.p.Name] = l
	}

	// The admin server is one per process.
	var listen, pprof *loaded
	for _, l := range all {
		if l.listenAt != nil {
			if listen == nil {
				listen = l
			} else if l.p.Admin.Listen != listen.p.Admin.Listen {
				errAt(l, l.listenAt, 0, "admin.listen", "%s differs from %s set in %s:%d; all pipelines of a process share one admin server", quote(l.p.Admin.Listen), quote(listen.p.Admin.Listen), listen.p.File, listen.listenAt.Line)
			}
		}
		if l.pprofAt != nil {
			if pprof == nil {
				pprof = l
			} else if l.p.Admin.Pprof != pprof.p.Admin.Pprof {
				errAt(l, l.pprofAt, 0, "admin.pprof", "%t differs from %t set in %s:%d; all pipelines of a process share one admin server", l.p.Admin.Pprof, pprof.p.Admin.Pprof, pprof.p.File, pprof.pprofAt.Line)
			}
		}
	}
	for _, l := range all {
		if listen != nil {
			l.p.Admin.Listen = listen.p.Admin.Listen
		}
		if pprof != nil {
			l.p.Admin.Pprof = pprof.p.Admin.Pprof
		}
	}

	// One reader per slot, publication and MySQL replica id on a server.
	type use struct {
		kind, server, name string
	}
	seen := map[use]*loaded{}
	claim := func(l *loaded, u use, n *yaml.Node, key string) {
		if u.name == "" || u.server == "" {
			return
		}
		if prev, dup := seen[u]; dup {
			errAt(l, n, l.p.Line, key, "%s %s is also used by pipeline %s (%s) on the same server; each pipeline needs its own", u.kind, quote(u.name), quote(prev.p.Name), at(prev))
			return
		}
		seen[u] = l
	}
	for _, l := range all {
		if dupName[l] {
			continue // its derived names clash too; one error is enough
		}
		s := l.p.Source
		switch s.Type {
		case SourcePostgres:
			claim(l, use{"slot", s.DSN, s.Postgres.Slot}, l.slotAt, "source.postgres.slot")
			claim(l, use{"publication", s.DSN, s.Postgres.Publication}, l.pubAt, "source.postgres.publication")
		case SourceMySQL:
			if s.MySQL.ServerID != 0 {
				claim(l, use{"server_id", mysqlAddr(s.DSN), fmt.Sprint(s.MySQL.ServerID)}, l.serverAt, "source.mysql.server_id")
			}
		}
	}
	return errs
}

// mysqlAddr returns the server part of a MySQL DSN (what follows the last
// '@' up to the database), or the whole DSN when it has no '@'.
func mysqlAddr(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		dsn = dsn[i+3:]
	}
	if q := strings.IndexByte(dsn, '?'); q >= 0 {
		dsn = dsn[:q]
	}
	if s := strings.LastIndexByte(dsn, '/'); s >= 0 && s > strings.LastIndexByte(dsn, ')') {
		dsn = dsn[:s]
	}
	if at := strings.LastIndexByte(dsn, '@'); at >= 0 {
		return dsn[at+1:]
	}
	return dsn
}
