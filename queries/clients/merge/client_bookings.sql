-- client_bookings of a client that only gained rows: the later of the kept and the new
-- dates (a client new tonight has no kept row; greatest() passes over a NULL).
select
    coalesce(k.client_key, p.client_key) as client_key,
    greatest(k.last_scheduled_date, p.last_scheduled_date) as last_scheduled_date,
    greatest(k.last_marked_date, p.last_marked_date) as last_marked_date
from tmp_kept k
full join tmp_partial p using (client_key)
