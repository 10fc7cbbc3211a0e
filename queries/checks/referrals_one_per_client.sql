-- A client is referred once: its first appointment (or first claim).
select client_key, count(*) as referrals
from referrals
group by client_key
having count(*) > 1
