package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cdcd-dev/cdcd/metrics"
)

// cmdStatus prints the /status of a running cdcd.
func cmdStatus(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cdcd status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	admin := fs.String("admin", "http://127.0.0.1:9187", "the admin address of the cdcd to ask")
	asJSON := fs.Bool("json", false, "print the JSON of /status as it is")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	base := strings.TrimSuffix(*admin, "/")
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/status", nil)
	if err != nil {
		fmt.Fprintln(stderr, "cdcd status:", err)
		return exitUsage
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "cdcd status: cannot reach %s: %v (is cdcd running, and is --admin its admin.listen?)\n", base, err)
		return exitFailed
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "cdcd status: %s/status answered %s %v\n", base, resp.Status, err)
		return exitFailed
	}
	if *asJSON {
		stdout.Write(body)
		return exitOK
	}
	var st struct {
		Pipelines []metrics.Status `json:"pipelines"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		fmt.Fprintf(stderr, "cdcd status: %s/status is not cdcd's status: %v\n", base, err)
		return exitFailed
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "PIPELINE\tSTATE\tPOSITION\tSOURCE LAG\tEND-TO-END LAG\tCHECKPOINT AGE\tLAST ERROR")
	notReady := false
	for _, p := range st.Pipelines {
		notReady = notReady || !p.Ready
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.State, orDash(p.Position),
			seconds(p.SourceLagSeconds), seconds(p.EndToEndLagSeconds), seconds(p.CheckpointAge), orDash(p.LastError))
	}
	w.Flush()
	if notReady {
		return exitFailed
	}
	return exitOK
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func seconds(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond).String()
}
