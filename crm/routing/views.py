from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.auth.permissions import Permission, permission_required
from crm.auth.queries import assignable_users
from crm.core.forms import show_domain_error
from crm.core.idempotency import once, remember_result
from crm.errors import DomainError
from crm.extensions import db
from crm.routing.forms import RoutingRuleForm
from crm.routing.models import RoutingRule
from crm.routing.queries import all_rules, get_rule_or_404
from crm.routing.services import delete_rule, move_rule, save_rule

bp = Blueprint("routing", __name__, url_prefix="/admin/routing")


@bp.get("")
@permission_required(Permission.ROUTING_MANAGE)
def rules():
    return render_template("routing/list.html", rules=all_rules())


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Permission.ROUTING_MANAGE)
@once()
def new():
    return _edit(None)


@bp.route("/<int:rule_id>", methods=["GET", "POST"])
@permission_required(Permission.ROUTING_MANAGE)
@once()
def edit(rule_id: int):
    return _edit(get_rule_or_404(rule_id))


def _edit(rule: RoutingRule | None):
    form = RoutingRuleForm(obj=rule, targets=assignable_users())
    if request.method == "GET" and rule is not None:
        form.organisation_name.data = rule.organisation.name if rule.organisation else ""
        form.target_user_id.data = str(rule.target_user_id)
    if form.validate_on_submit():
        try:
            save_rule(rule, form.data, current_user)
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            remember_result(url_for("routing.rules"))
            db.session.commit()
            flash(_("Regeln är sparad."), "success")
            return redirect(url_for("routing.rules"))
    status = 422 if form.is_submitted() else 200
    return render_template("routing/form.html", form=form, rule=rule), status


@bp.post("/<int:rule_id>/move")
@permission_required(Permission.ROUTING_MANAGE)
@once()
def move(rule_id: int):
    direction = request.form.get("direction")
    if direction not in {"up", "down"}:
        abort(400)
    move_rule(get_rule_or_404(rule_id), direction, current_user)
    remember_result(url_for("routing.rules"))
    db.session.commit()
    return redirect(url_for("routing.rules"))


@bp.route("/<int:rule_id>/delete", methods=["GET", "POST"])
@permission_required(Permission.ROUTING_MANAGE)
@once()
def delete(rule_id: int):
    """Deleting a rule changes where new inquiries go: the page says so and asks first."""
    rule = get_rule_or_404(rule_id)
    if request.method == "GET" or request.form.get("confirm") != "yes":
        return render_template(
            "core/confirm.html",
            heading=_("Ta bort regeln %(name)s?", name=rule.name),
            consequences=[
                _("Nya förfrågningar som regeln skulle ha fångat prövas i stället mot reglerna "
                  "under den, och annars mot avsändarens önskade mottagare."),
                _("Förfrågningar som redan är fördelade påverkas inte. Det går inte att ångra, "
                  "men du kan lägga upp regeln igen."),
            ],
            action=url_for("routing.delete", rule_id=rule.id),
            button=_("Ta bort regeln"),
            back=url_for("routing.rules"),
        )  # fmt: skip
    delete_rule(rule, current_user)
    remember_result(url_for("routing.rules"))
    db.session.commit()
    flash(_("Regeln %(name)s är borttagen.", name=rule.name), "success")
    return redirect(url_for("routing.rules"))
