from django.core.paginator import Paginator


class DeferredJoinPaginator(Paginator):
    """Pages a queryset by choosing the page's ids on the bare table first (sort and skip over narrow rows),
    then loading only those rows with their joins, in one query: a deep page of a 50,000-row inbox no
    longer joins every row before sorting. Ordering comes from the queryset."""

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = self.object_list.values("pk")[bottom:top]
        return self._get_page(self.object_list.filter(pk__in=ids), number, self)
