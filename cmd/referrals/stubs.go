package main

import "context"

func cmdExplain(ctx context.Context, e env, args []string) error {
	return &usageError{"explain: not built yet"}
}
func cmdBench(ctx context.Context, e env, args []string) error {
	return &usageError{"bench: not built yet"}
}
