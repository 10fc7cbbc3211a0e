package main

import "context"

func cmdExplain(ctx context.Context, e env, args []string) error {
	return &usageError{"explain: not built yet"}
}
