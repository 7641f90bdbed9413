<%@ page contentType="text/html" %>
<html><body><form method="post" action="/awmft/webclient/login">
<input name="user"/><input name="password" type="password"/></form></body></html>
