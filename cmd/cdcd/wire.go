package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cdcd-dev/cdcd/checkpoint"
	"github.com/cdcd-dev/cdcd/config"
	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/metrics"
	"github.com/cdcd-dev/cdcd/pipeline"
	"github.com/cdcd-dev/cdcd/sink"
	"github.com/cdcd-dev/cdcd/sink/discard"
	"github.com/cdcd-dev/cdcd/sink/kafka"
	mysink "github.com/cdcd-dev/cdcd/sink/mysql"
	pgsink "github.com/cdcd-dev/cdcd/sink/postgres"
	"github.com/cdcd-dev/cdcd/sink/sqlapply"
	"github.com/cdcd-dev/cdcd/sink/stdout"
	"github.com/cdcd-dev/cdcd/source"
	"github.com/cdcd-dev/cdcd/source/mysql"
	"github.com/cdcd-dev/cdcd/source/postgres"
	"github.com/cdcd-dev/cdcd/transform"
)

// runner is one built pipeline and its logger.
type runner struct {
	p   *pipeline.Pipeline
	log *slog.Logger
}

// checkBuildable reports what of a valid config this build cannot run yet,
// so `validate` says it before anything connects.
func checkBuildable(pl *config.Pipeline) error {
	if pl.Source.Snapshot != config.SnapshotNever {
		return fmt.Errorf("source.snapshot: %q is not available in this build yet; only \"never\" is (stream changes from now on: the slot's creation, or the binlog position at first start)", pl.Source.Snapshot)
	}
	return nil
}

func build(pl *config.Pipeline, root *slog.Logger, m *metrics.Metrics) (runner, error) {
	if err := checkBuildable(pl); err != nil {
		return runner{}, err
	}
	log := root.With("pipeline", pl.Name)
	obs := m.Pipeline(pl.Name)
	src, err := buildSource(pl, log)
	if err != nil {
		return runner{}, err
	}
	if pg, ok := src.(*postgres.Source); ok {
		obs.SetSlotStats(func(ctx context.Context) (metrics.SlotStats, error) {
			st, err := pg.SlotStats(ctx)
			return metrics.SlotStats{RetainedBytes: st.RetainedWALBytes, SafeWALBytes: st.SafeWALSize, WALStatus: st.WALStatus}, err
		})
	}
	snk, err := buildSink(pl, log, obs)
	if err != nil {
		return runner{}, err
	}
	chain, err := buildTransforms(pl, log)
	if err != nil {
		return runner{}, err
	}
	maxEvents, maxBytes, linger := pl.Batch.MaxEvents, int64(pl.Batch.MaxBytes), time.Duration(pl.Batch.Linger)
	if k := pl.Sink.Kafka; pl.Sink.Type == config.SinkKafka {
		// A flush is a Kafka transaction: the sink's bounds are the pipeline's.
		if k.MaxBatchEvents > 0 {
			maxEvents = k.MaxBatchEvents
		}
		if k.MaxBatchBytes > 0 {
			maxBytes = int64(k.MaxBatchBytes)
		}
		if k.Linger > 0 {
			linger = time.Duration(k.Linger)
		}
	}
	p, err := pipeline.New(src, chain, snk, pipeline.Options{
		Name:           pl.Name,
		MaxBatchEvents: maxEvents,
		MaxBatchBytes:  maxBytes,
		Linger:         linger,
		QueueBatches:   pl.Batch.QueueBatches,
		RetryInitial:   time.Duration(pl.Retry.Initial),
		RetryMax:       time.Duration(pl.Retry.Max),
		ShutdownGrace:  time.Duration(pl.Shutdown),
		Logger:         root,
		Observer:       obs,
	})
	if err != nil {
		return runner{}, err
	}
	return runner{p: p, log: log}, nil
}

func buildSource(pl *config.Pipeline, log *slog.Logger) (source.Source, error) {
	if pl.Source.Type == config.SourceMySQL {
		my := pl.Source.MySQL
		return mysql.New(mysql.Options{
			DSN:       pl.Source.DSN,
			Pipeline:  pl.Name,
			Tables:    pl.Source.Tables,
			ServerID:  my.ServerID,
			Heartbeat: time.Duration(my.Heartbeat),
			ZeroDate:  my.ZeroDate,
			Logger:    log,
		})
	}
	pg := pl.Source.Postgres
	return postgres.New(postgres.Options{
		DSN:               pl.Source.DSN,
		Pipeline:          pl.Name,
		Tables:            pl.Source.Tables,
		Slot:              pg.Slot,
		Publication:       pg.Publication,
		CreateSlot:        pg.CreateSlot,
		CreatePublication: pg.CreatePublication,
		StatusInterval:    time.Duration(pg.StatusInterval),
		Heartbeat:         time.Duration(pg.Heartbeat),
		MissingIdentity:   pg.MissingIdentity,
		Toast:             pg.Toast,
		Logger:            log,
	})
}

func buildSink(pl *config.Pipeline, log *slog.Logger, obs *metrics.Pipeline) (sink.Sink, error) {
	if pl.Sink.Type == config.SinkPostgres || pl.Sink.Type == config.SinkMySQL {
		c := sqlapply.Conflict{Default: sqlapply.Strategy(pl.Sink.Conflict.Default), OnMissing: sqlapply.OnMissing(pl.Sink.Conflict.OnMissing)}
		for _, r := range pl.Sink.Conflict.Rules {
			c.Rules = append(c.Rules, sqlapply.Rule{Tables: r.Tables, Strategy: sqlapply.Strategy(r.Strategy)})
		}
		if pl.Sink.Type == config.SinkPostgres {
			t := pl.Sink.Postgres
			return pgsink.New(pgsink.Options{DSN: pl.Sink.DSN, Pipeline: pl.Name, SchemaMap: t.SchemaMap,
				CreateTables: t.CreateTables, CheckpointSchema: t.CheckpointSchema, Conflict: c,
				DeadLetterTable: pl.Sink.DeadLetter.Table, Observer: obs, Logger: log})
		}
		t := pl.Sink.MySQL
		return mysink.New(mysink.Options{DSN: pl.Sink.DSN, Pipeline: pl.Name, SchemaMap: t.SchemaMap,
			CreateTables: t.CreateTables, CheckpointSchema: t.CheckpointSchema, Conflict: c,
			DeadLetterTable: pl.Sink.DeadLetter.Table, Observer: obs, Logger: log})
	}
	if pl.Sink.Type == config.SinkKafka {
		k := pl.Sink.Kafka
		return kafka.New(kafka.Options{
			Pipeline:          pl.Name,
			Brokers:           k.Brokers,
			Topic:             k.Topic,
			Format:            kafka.Format(k.Format),
			Schemas:           k.Schemas,
			AtLeastOnce:       !k.ExactlyOnce,
			OffsetsTopic:      k.OffsetsTopic,
			Compression:       kafka.Compression(k.Compression),
			PartitionBy:       kafka.PartitionBy(k.PartitionBy),
			Tombstones:        k.Tombstones,
			Partitions:        int32(k.Partitions),
			ReplicationFactor: int16(k.ReplicationFactor),
			Logger:            log,
		})
	}
	store, err := checkpoint.NewFile(pl.StateDir)
	if err != nil {
		return nil, err
	}
	// The sinks read 0 as their default; the config's 0 means every flush.
	interval := time.Duration(pl.CheckpointInterval)
	if interval == 0 {
		interval = -1
	}
	if pl.Sink.Type == config.SinkDiscard {
		return discard.New(pl.Name, store, interval)
	}
	return stdout.New(stdout.Options{
		Pipeline:           pl.Name,
		Path:               pl.Sink.Stdout.Path,
		Fsync:              pl.Sink.Stdout.Fsync,
		Store:              store,
		CheckpointInterval: interval,
	})
}

// buildTransforms builds the pipeline's transform chain; its errors are
// joined *transform.SpecErrors, each naming the file, line and key.
func buildTransforms(pl *config.Pipeline, log *slog.Logger) (transform.Chain, error) {
	specs := make([]transform.Spec, len(pl.Transforms))
	for i, t := range pl.Transforms {
		ops := make([]event.Op, 0, len(t.Ops))
		for _, o := range t.Ops {
			op, err := event.ParseOp(o)
			if err != nil { // config.Load rejects these already
				return nil, fmt.Errorf("%s:%d: transforms[%d].ops: %w", pl.File, t.Line, i, err)
			}
			ops = append(ops, op)
		}
		specs[i] = transform.Spec{
			Type: transform.Type(t.Type), File: pl.File, Line: t.Line,
			Tables: t.Tables, Where: t.Where, Ops: ops, Columns: t.Columns,
			Method: transform.MaskMethod(t.Method), Salt: t.Salt, Keep: t.Keep, KeepFirst: t.KeepFirst,
			To: t.To, RenameColumns: t.RenameColumns, Topic: t.Topic, Set: t.Set,
			Outbox: transform.OutboxColumns{ID: t.IDColumn, Key: t.KeyColumn, Payload: t.PayloadColumn, RouteBy: t.RouteByColumn},
		}
	}
	return transform.Build(specs, log)
}
