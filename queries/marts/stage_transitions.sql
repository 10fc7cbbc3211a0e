-- stage_transitions: every month whose stage differs from the month before, per
-- referrer, up to the report month: 'start' (from no stage: the first referral, or a
-- restart after a lapse), 'lapse' (to no stage: no referral left in the window),
-- 'up' and 'down'.
with history as (
    select
        referrer,
        month,
        stage,
        lag(stage) over (partition by referrer order by month) as from_stage
    from referrer_months
)

select
    referrer,
    month,
    from_stage,
    stage as to_stage,
    case
        when from_stage is null then 'start'
        when stage is null then 'lapse'
        when stage > from_stage then 'up'
        else 'down'
    end as direction
from history
where stage is distinct from from_stage
