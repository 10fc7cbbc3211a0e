-- client_payers of a client that only gained rows: the combinations kept and those of
-- its new rows, once each.
select * from tmp_kept
union
select * from tmp_partial
