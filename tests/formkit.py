"""What a browser would post for a page's form as it is offered: each input's value, a select's
selected (or first) option, a textarea's text, a checkbox or radio only when checked."""

from bs4 import BeautifulSoup


def offered(html: str, selector: str = "main form[method=post]") -> dict[str, str]:
    form = BeautifulSoup(html, "html.parser").select_one(selector)
    assert form is not None, f"no {selector} on the page"
    data: dict[str, str] = {}
    for field in form.select("input[name], select[name], textarea[name]"):
        name = field["name"]
        if field.name == "textarea":
            data[name] = field.get_text().lstrip("\n")
        elif field.name == "select":
            options = field.select("option")
            chosen = next((o for o in options if o.has_attr("selected")),
                          options[0] if options else None)
            data[name] = chosen.get("value", chosen.get_text()) if chosen else ""
        elif field.get("type") in ("checkbox", "radio"):
            if field.has_attr("checked"):
                data[name] = field.get("value", "on")
        elif field.get("type") not in ("submit", "button", "file"):
            data[name] = field.get("value", "")
    return data
