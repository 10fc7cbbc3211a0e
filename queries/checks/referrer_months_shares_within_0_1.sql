-- Shares and COC are proportions; effective clinicians is at least 1.
select referrer, month, point_person_share, practice_share, coc, effective_clinicians
from referrer_months
where point_person_share not between 0 and 1
   or practice_share not between 0 and 1
   or coc not between 0 and 1
   or effective_clinicians < 1
