-- client_mentions of a client that only gained rows: the spellings kept and those of
-- its new rows, once each.
select * from tmp_kept
union
select * from tmp_partial
