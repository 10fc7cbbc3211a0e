-- client_providers of a client that only gained rows: per spelling, the rows kept
-- and new added up, the first and last dates of both.
select client_key, export, provider, provider_npi, payer,
    sum(n)::BIGINT as n, min(first_date) as first_date, max(last_date) as last_date
from (select * from tmp_kept union all select * from tmp_partial)
group by client_key, export, provider, provider_npi, payer
